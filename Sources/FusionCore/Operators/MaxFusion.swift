import TensorCore

extension FusionMethod {
    /// Keras `Maximum`: the element-wise maximum of the branch outputs.
    public static let max = FusionMethod(named: "max")
}

/// The element-wise maximum over the present modalities, `f_i = max_{m∈P} h_mi`; the
/// gradient flows to the modality each element was taken from (see ``ElementwisePick``).
struct MaxFusion: FusionOperator {
    static let method = FusionMethod.max
    static let fitting = OperatorFitting.none
    static let inputs = OperatorInputs.equalWidths
    static let outputSpace = OutputSpace.probabilities
    static let absentModality = AbsentModalityHandling.presentModalitiesOnly
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, ElementwisePick) {
        ElementwisePick.forward(h, largest: true)
    }

    func backward(
        _ h: [Matrix],
        _ cache: ElementwisePick,
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        cache.backward(g, modalities: h.count)
    }

    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] { [] }
}
