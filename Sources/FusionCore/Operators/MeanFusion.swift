import TensorCore

extension FusionMethod {
    /// Keras `Average`: `f = Σ_{m∈P} h_m / |P|`.
    public static let mean = FusionMethod(named: "mean")
}

/// The plain average of the branch outputs over the present modalities P:
/// `f = Σ_{m∈P} h_m / |P|`, so `∂f/∂h_m = 1/|P|`.
struct MeanFusion: FusionOperator {
    static let method = FusionMethod.mean
    static let fitting = OperatorFitting.none
    static let inputs = OperatorInputs.equalWidths
    static let outputSpace = OutputSpace.probabilities
    static let absentModality = AbsentModalityHandling.renormalizeWeights
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, Void) {
        let present = h.compactMap { $0 }
        var f = Matrix(rows: present[0].rows, columns: present[0].columns)
        for x in present { f = f + x * (1 / Float(present.count)) }
        return (f, ())
    }

    func backward(
        _ h: [Matrix],
        _ cache: Void,
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        h.map { _ in g * (1 / Float(h.count)) }
    }

    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] {
        perModality(modalities, [Float](repeating: 1 / Float(modalities.count), count: modalities.count))
    }
}
