import TensorCore

extension FusionMethod {
    /// Keras `Minimum`: the element-wise minimum of the branch outputs.
    public static let min = FusionMethod(named: "min")
}

/// The element-wise minimum over the present modalities, `f_i = min_{m∈P} h_mi`; the
/// gradient flows to the modality each element was taken from (see ``ElementwisePick``).
struct MinFusion: FusionOperator {
    static let method = FusionMethod.min
    static let fitting = OperatorFitting.none
    static let inputs = OperatorInputs.equalWidths
    static let outputSpace = OutputSpace.probabilities
    static let absentModality = AbsentModalityHandling.presentModalitiesOnly
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, ElementwisePick) {
        ElementwisePick.forward(h, largest: false)
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
