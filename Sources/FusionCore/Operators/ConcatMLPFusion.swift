import TensorCore

extension FusionMethod {
    /// The question's head: concatenate, then `Dense(hidden, relu) → Dropout → Dense(C)`.
    public static let concatMLP = FusionMethod(named: "concat-mlp")
}

/// ``ConcatFusion`` with the head the original question trains:
/// `Dense(hidden, relu) → Dropout(rate) → Dense(C)`. The operator has no parameters; the head's
/// are trained, so the method learns.
struct ConcatMLPFusion: FusionOperator {
    static let method = FusionMethod.concatMLP
    static let fitting = OperatorFitting.none
    static let inputs = OperatorInputs.concatenated
    static let outputSpace = OutputSpace.vector
    static let absentModality = AbsentModalityHandling.refused
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    static func defaultHead(classes: Int, hidden: Int, dropout: Float, regression: Bool) -> [LayerSpec] {
        [.dense(units: hidden), .relu, .dropout(rate: dropout), .dense(units: classes)]
    }

    /// ``ConcatFusion``'s forward pass.
    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, Void) {
        ConcatFusion(context).forward(h, parameters: parameters)
    }

    func backward(
        _ h: [Matrix],
        _ cache: Void,
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        ConcatFusion(context).backward(
            h,
            cache,
            g,
            parameters: parameters,
            gradients: &gradients,
            needInputGradients: needInputGradients
        )
    }

    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] { [] }
}
