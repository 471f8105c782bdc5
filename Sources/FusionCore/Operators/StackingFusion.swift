import RealModule
import TensorCore

extension FusionMethod {
    /// Multinomial logistic regression on the concatenated log-probabilities, with L2.
    public static let stacking = FusionMethod(named: "stacking")
}

/// Logits `z = u·K + b` with `u = [log h_1 … log h_M]` (B×MC; an absent modality contributes
/// `log 1/C`): a multinomial logistic regression on every modality's log-probabilities
/// (`fusion.kernel`, MC×C, starting at the normalised product rule `K = [I; I; …]/M`; `fusion.bias`,
/// 1×C). Default L2 `λ = 1e-3` on `K`.
///
/// Backward: `∂K = uᵀG`, `∂b = Σ_rows G`, `∂u = G·Kᵀ`, `∂h_m = ∂u_m / h_m`.
struct StackingFusion: FusionOperator {
    static let method = FusionMethod.stacking
    static let fitting = OperatorFitting.gradient
    static let inputs = OperatorInputs.classDistributions
    static let outputSpace = OutputSpace.logits
    static let absentModality = AbsentModalityHandling.refused
    static let defaultL2: Float = 1e-3
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    var parameterShapes: [ParameterShape] {
        let (count, classes) = (context.modalityCount, context.classCount)
        return [
            ParameterShape(name: "fusion.kernel", rows: count * classes, columns: classes, trainable: true),
            ParameterShape(name: "fusion.bias", rows: 1, columns: classes, trainable: true),
        ]
    }

    func initialParameters(rng: inout SeededRandom) -> [String: Matrix] {
        let (count, classes) = (context.modalityCount, context.classCount)
        var kernel = Matrix(rows: count * classes, columns: classes)
        for block in 0..<count { for k in 0..<classes { kernel[block * classes + k, k] = 1 / Float(count) } }
        return ["fusion.kernel": kernel, "fusion.bias": Matrix(rows: 1, columns: classes)]
    }

    /// Keeps `u`, the stacked log-probabilities.
    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, Matrix) {
        // Every modality is present: stacking refuses absent ones.
        let (rows, width) = (h[0]!.rows, h[0]!.columns)
        var u = Matrix(rows: rows, columns: h.count * width)
        for m in h.indices {
            let logs = clampedLog(h[m]!)
            for i in 0..<rows {
                for k in 0..<width { u[i, m * width + k] = logs[i, k] }
            }
        }
        var z = Matrix.multiply(u, parameters["fusion.kernel"]!)
        z.addRowVector(parameters["fusion.bias"]!.values)
        return (z, u)
    }

    func backward(
        _ h: [Matrix],
        _ u: Matrix,
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        let (rows, width) = (g.rows, g.columns)
        accumulate(&gradients, "fusion.kernel", Matrix.multiply(u, transposingA: true, g))
        accumulate(&gradients, "fusion.bias", Matrix(rows: 1, columns: width, values: g.columnSums()))
        let du = Matrix.multiply(g, parameters["fusion.kernel"]!, transposingB: true)
        return h.indices.map { m in
            var block = Matrix(rows: rows, columns: width)
            for i in 0..<rows { for k in 0..<width { block[i, k] = du[i, m * width + k] } }
            return FusionSpec.dividing(block, by: h[m])
        }
    }

    /// Each modality's share of `Σ|K|` (a measure of reliance, summing to 1).
    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] {
        let k = parameters["fusion.kernel"]!
        let c = context.classCount
        let mass = modalities.indices.map { m in
            (m * c..<(m + 1) * c).reduce(Float(0)) { s, r in s + (0..<k.columns).reduce(Float(0)) { $0 + abs(k[r, $1]) }
            }
        }
        let total = mass.reduce(0, +)
        return perModality(modalities, mass.map { $0 / total })
    }
}
