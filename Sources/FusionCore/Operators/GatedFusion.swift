import RealModule
import TensorCore

extension FusionMethod {
    /// Per-sample modality weights from a small gate over each modality's confidence and entropy.
    public static let gated = FusionMethod(named: "gated")
}

/// `f_b = Σ_{m∈P} w_bm h_bm` with per-sample weights `w_b = softmax_P(U_b·G + c)` and gate inputs
/// `U_b = [max_k h_bmk, H(h_bm)/log C]_m` (B×2M: each modality's confidence and normalised
/// entropy). `fusion.gate.kernel` (2M×M, Glorot) and `fusion.gate.bias` (1×M, zero).
///
/// Backward, with `σ_bm = Σ_k G_bk h_bmk`: `∂s_bj = w_bj (σ_bj − Σ_m w_bm σ_bm)`, `∂G = Uᵀ·∂s`,
/// `∂c = Σ_rows ∂s`, `∂U = ∂s·Gᵀ`, and `∂h_m = w_m G + ∂U_max·[k = argmax] − ∂U_H (log h + 1)/log C`.
struct GatedFusion: FusionOperator {
    static let method = FusionMethod.gated
    static let fitting = OperatorFitting.gradient
    static let inputs = OperatorInputs.classDistributions
    static let outputSpace = OutputSpace.probabilities
    static let absentModality = AbsentModalityHandling.renormalizeWeights
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    /// The per-sample weights (B×M) and the gate's inputs `U` (B×2M).
    struct Cache {
        var weights: Matrix
        var gateInputs: Matrix
    }

    var parameterShapes: [ParameterShape] {
        let count = context.modalityCount
        return [
            ParameterShape(name: "fusion.gate.kernel", rows: 2 * count, columns: count, trainable: true),
            ParameterShape(name: "fusion.gate.bias", rows: 1, columns: count, trainable: true),
        ]
    }

    func initialParameters(rng: inout SeededRandom) -> [String: Matrix] {
        let count = context.modalityCount
        return [
            "fusion.gate.kernel": glorotUniform(rows: 2 * count, columns: count, rng: &rng),
            "fusion.gate.bias": Matrix(rows: 1, columns: count),
        ]
    }

    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, Cache) {
        let count = h.count
        let present = h.indices.filter { h[$0] != nil }
        let (rows, width) = (h[present[0]]!.rows, h[present[0]]!.columns)
        let logC = Float.log(Float(width))
        var u = Matrix(rows: rows, columns: 2 * count)
        for m in present {
            let x = h[m]!
            for i in 0..<rows {
                var mx: Float = 0
                var entropy: Float = 0
                for k in 0..<width {
                    let p = x[i, k]
                    mx = Swift.max(mx, p)
                    entropy -= p * Float.log(Swift.max(p, logFloor))
                }
                u[i, m] = mx
                u[i, count + m] = entropy / logC
            }
        }
        var s = Matrix.multiply(u, parameters["fusion.gate.kernel"]!)
        s.addRowVector(parameters["fusion.gate.bias"]!.values)
        var weights = Matrix(rows: rows, columns: count)
        var f = Matrix(rows: rows, columns: width)
        for i in 0..<rows {
            let w = FusionSpec.softmax(present.map { s[i, $0] })
            for (j, m) in present.enumerated() {
                weights[i, m] = w[j]
                let x = h[m]!
                for k in 0..<width { f.values[i * width + k] += w[j] * x.values[i * width + k] }
            }
        }
        return (f, Cache(weights: weights, gateInputs: u))
    }

    func backward(
        _ h: [Matrix],
        _ cache: Cache,
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        let (w, u) = (cache.weights, cache.gateInputs)
        let count = h.count
        let (rows, width) = (g.rows, g.columns)
        var ds = Matrix(rows: rows, columns: count)
        for i in 0..<rows {
            var sigma = [Float](repeating: 0, count: count)
            for m in 0..<count { for k in 0..<width { sigma[m] += g[i, k] * h[m][i, k] } }
            var mean: Float = 0
            for m in 0..<count { mean += w[i, m] * sigma[m] }
            for j in 0..<count { ds[i, j] = w[i, j] * (sigma[j] - mean) }
        }
        accumulate(&gradients, "fusion.gate.kernel", Matrix.multiply(u, transposingA: true, ds))
        accumulate(&gradients, "fusion.gate.bias", Matrix(rows: 1, columns: count, values: ds.columnSums()))
        let du = Matrix.multiply(ds, parameters["fusion.gate.kernel"]!, transposingB: true)
        let logC = Float.log(Float(width))
        return (0..<count).map { m in
            var d = Matrix(rows: rows, columns: width)
            let x = h[m]
            for i in 0..<rows {
                var best = 0
                for k in 1..<width where x[i, k] > x[i, best] { best = k }
                for k in 0..<width {
                    let p = x[i, k]
                    let dEntropy = p > logFloor ? -(Float.log(p) + 1) / logC : -Float.log(logFloor) / logC
                    d[i, k] = w[i, m] * g[i, k] + du[i, count + m] * dEntropy + (k == best ? du[i, m] : 0)
                }
            }
            return d
        }
    }

    /// The mean per-sample weight over the data the report is for (none without data).
    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] {
        guard let h = branchOutputs(), let rows = h.first(where: { $0 != nil })??.rows, rows > 0 else { return [] }
        let w = forward(h, parameters: parameters).1.weights
        return perModality(modalities, w.columnSums().map { $0 / Float(rows) })
    }
}
