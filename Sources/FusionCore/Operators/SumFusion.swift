import TensorCore

extension FusionMethod {
    /// Keras `Add`: `f = Σ h_m` (scaled by `M/|P|` when modalities are absent).
    public static let sum = FusionMethod(named: "sum")
}

/// The sum of the branch outputs, `f = (M/|P|) Σ_{m∈P} h_m`: with every modality present the
/// plain sum; with some absent, rescaled to the full count. `∂f/∂h_m = 1` in training.
struct SumFusion: FusionOperator {
    static let method = FusionMethod.sum
    static let fitting = OperatorFitting.none
    static let inputs = OperatorInputs.equalWidths
    static let outputSpace = OutputSpace.probabilities
    static let absentModality = AbsentModalityHandling.renormalizeWeights
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, Void) {
        let present = h.compactMap { $0 }
        var f = Matrix(rows: present[0].rows, columns: present[0].columns)
        for x in present { f = f + x * (Float(h.count) / Float(present.count)) }
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
        h.map { _ in g }
    }

    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] {
        perModality(modalities, [Float](repeating: 1 / Float(modalities.count), count: modalities.count))
    }
}
