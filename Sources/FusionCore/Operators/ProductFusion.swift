import TensorCore

extension FusionMethod {
    /// The product rule, normalised: `p ∝ Π h_m`, computed in log space.
    public static let product = FusionMethod(named: "product")
}

/// The normalised product of the present class distributions, as logits `z = Σ_{m∈P} log h_m`
/// (softmax gives `Π h_m / Σ_k Π h_mk`). `∂h_m = G / h_m`, zero where the log was clamped.
struct ProductFusion: FusionOperator {
    static let method = FusionMethod.product
    static let fitting = OperatorFitting.none
    static let inputs = OperatorInputs.classDistributions
    static let outputSpace = OutputSpace.logits
    static let absentModality = AbsentModalityHandling.presentModalitiesOnly
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, Void) {
        let present = h.compactMap { $0 }
        var z = Matrix(rows: present[0].rows, columns: present[0].columns)
        for x in present { z = z + clampedLog(x) }
        return (z, ())
    }

    func backward(
        _ h: [Matrix],
        _ cache: Void,
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        h.map { FusionSpec.dividing(g, by: $0) }
    }

    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] {
        perModality(modalities, [Float](repeating: 1 / Float(modalities.count), count: modalities.count))
    }
}
