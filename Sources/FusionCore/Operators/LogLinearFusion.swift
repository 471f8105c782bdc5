import RealModule
import TensorCore

extension FusionMethod {
    /// A learned non-negative exponent per modality on its log-probabilities, plus a bias.
    public static let logLinear = FusionMethod(named: "log-linear")
}

/// Logits `z = s · Σ_{m∈P} softplus(a_m) log h_m + b`: a weighted product of experts, each
/// modality's weight `softplus(a_m) ≥ 0` (`fusion.weights`, 1×M, starting at `softplus⁻¹(1/M)`
/// so the start is the product rule scaled by 1/M) and a class bias `b` (`fusion.bias`, 1×C).
/// `s = Σ_m w_m / Σ_{m∈P} w_m` rescales to the full sum when modalities are absent (1 in training).
///
/// Backward: `∂h_m = w_m G / h_m`, `∂a_m = σ(a_m) Σ G ⊙ log h_m`, `∂b = Σ_rows G`.
struct LogLinearFusion: FusionOperator {
    static let method = FusionMethod.logLinear
    static let fitting = OperatorFitting.gradient
    static let inputs = OperatorInputs.classDistributions
    static let outputSpace = OutputSpace.logits
    static let absentModality = AbsentModalityHandling.renormalizeWeights
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    var parameterShapes: [ParameterShape] {
        [
            ParameterShape(name: "fusion.weights", rows: 1, columns: context.modalityCount, trainable: true),
            ParameterShape(name: "fusion.bias", rows: 1, columns: context.classCount, trainable: true),
        ]
    }

    func initialParameters(rng: inout SeededRandom) -> [String: Matrix] {
        // softplus(a) = 1/M  ⇔  a = log(exp(1/M) − 1)
        let start = Float.log(Float.exp(1 / Float(context.modalityCount)) - 1)
        return [
            "fusion.weights": Matrix(rows: 1, columns: context.modalityCount, repeating: start),
            "fusion.bias": Matrix(rows: 1, columns: context.classCount),
        ]
    }

    /// Keeps the clamped logs of the inputs.
    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, [Matrix?]) {
        let w = parameters["fusion.weights"]!.values.map(FusionSpec.softplus)
        let present = h.indices.filter { h[$0] != nil }
        let scale = w.reduce(0, +) / present.map { w[$0] }.reduce(0, +)
        let logs = h.map { $0.map(clampedLog) }
        var z = Matrix(rows: h[present[0]]!.rows, columns: h[present[0]]!.columns)
        for m in present { z = z + logs[m]! * (w[m] * scale) }
        z.addRowVector(parameters["fusion.bias"]!.values)
        return (z, logs)
    }

    func backward(
        _ h: [Matrix],
        _ logs: [Matrix?],
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        let a = parameters["fusion.weights"]!.values
        let da = h.indices.map { m in
            FusionSpec.sigmoid(a[m]) * zip(g.values, logs[m]!.values).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        }
        accumulate(&gradients, "fusion.weights", Matrix(rows: 1, columns: h.count, values: da))
        accumulate(&gradients, "fusion.bias", Matrix(rows: 1, columns: g.columns, values: g.columnSums()))
        return h.indices.map { FusionSpec.dividing(g * FusionSpec.softplus(a[$0]), by: h[$0]) }
    }

    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] {
        perModality(modalities, parameters["fusion.weights"]!.values.map(FusionSpec.softplus))
    }
}
