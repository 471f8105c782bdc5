import TensorCore

/// A fusion method: the rule that combines the branch outputs `h_m` (B×W each) into one matrix.
///
/// One type per method, one file each, in this folder; ``FusionMethod/operators`` lists them.
/// A method declares its parameters and how they start, its forward and backward pass, how it
/// treats an absent modality, what it reports as weights, and how it is fitted. Everything else
/// (branches, head, loss, training, storage) is shared.
///
/// Adding a method: write `Operators/NewFusion.swift` (a type conforming to this protocol and a
/// `FusionMethod` static for its name), add one line to ``FusionMethod/operators``, and it gets
/// for free the tests that iterate the table (finite-difference gradients through it, predictions
/// that sum to one with any modality missing, a spec that round-trips, Keras-data accuracy).
protocol FusionOperator: Sendable {
    /// What the forward pass keeps for the backward pass.
    associatedtype Cache = Void

    /// The method's name in specs and on the command line.
    static var method: FusionMethod { get }
    /// How the operator's own parameters get their values.
    static var fitting: OperatorFitting { get }
    /// What the branches must give it.
    static var inputs: OperatorInputs { get }
    /// How its output is read: probabilities (renormalised), logits (softmax) or a vector for a head.
    static var outputSpace: OutputSpace { get }
    /// What it does when a modality is absent at inference.
    static var absentModality: AbsentModalityHandling { get }
    /// The head the method gets by default (``FusionSpec/standard(for:method:hidden:dropout:temperature:l2:)``).
    static func defaultHead(classes: Int, hidden: Int, dropout: Float, regression: Bool) -> [LayerSpec]
    /// The default L2 strength on kernels when the user gives none.
    static var defaultL2: Float { get }

    init(_ context: FusionContext)

    /// The operator's own tensors (named `fusion.*`), in a fixed order.
    var parameterShapes: [ParameterShape] { get }
    /// Starting values for ``parameterShapes``, in their order, drawing from `rng` in that order.
    func initialParameters(rng: inout SeededRandom) -> [String: Matrix]
    /// Combines the branch outputs (`nil` where a modality is absent; at least one is present).
    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, Cache)
    /// Back-propagates `g = ∂L/∂f`: adds the operator's parameter gradients to `gradients` and
    /// returns `∂L/∂h_m` per modality (or `[]` when `needInputGradients` is false). Training
    /// always has every modality.
    func backward(
        _ h: [Matrix],
        _ cache: Cache,
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix]
    /// The weights a user reads (see ``FusionWeights``). `branchOutputs` computes the branch
    /// outputs on the data the report is for (nil when no data was given); only methods whose
    /// weights vary per sample call it.
    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry]
    /// For ``OperatorFitting/direct`` methods: sets the operator's parameters from branch outputs
    /// on held-out data (the validation set when there is one) and their labels.
    func fit(branchOutputs: [Matrix], labels: [Int], parameters: inout [String: Matrix])
}

/// How a method's own parameters get their values.
enum OperatorFitting {
    /// It has none: the operator is a fixed rule.
    case none
    /// Trained by gradient descent together with the branches and the head.
    case gradient
    /// Fitted directly on branch outputs once gradient training is over (``FusionOperator/fit(branchOutputs:labels:parameters:)``).
    case direct
}

/// What a method needs from the branches.
enum OperatorInputs {
    /// Class distributions: every branch output has C columns (classification only).
    case classDistributions
    /// Outputs of one common width (class distributions, or hidden features for regression).
    case equalWidths
    /// Outputs of any widths, concatenated; a head ending in `Dense(C)` must follow.
    case concatenated
}

/// What a method does at inference when a modality's input is absent (and the spec allows it).
public enum AbsentModalityHandling: Sendable, Hashable {
    /// The present modalities' weights are renormalised to the full sum.
    case renormalizeWeights
    /// The rule is applied to the present modalities only.
    case presentModalitiesOnly
    /// Prediction is refused: a learned map reads every modality's outputs together, and any
    /// stand-in for one of them would be a guess the model was never trained on.
    case refused

    /// One sentence for a user.
    public var description: String {
        switch self {
        case .renormalizeWeights: "the weights of the modalities present are renormalised to sum to one"
        case .presentModalitiesOnly: "the rule is applied to the modalities present"
        case .refused:
            "it needs every modality (its learned layer reads all of them together), so prediction is refused"
        }
    }
}

/// What an operator knows of the model around it.
struct FusionContext {
    var modalityCount: Int
    var classCount: Int
    /// Each branch's output width, in modality order.
    var branchWidths: [Int]
}

extension FusionOperator {
    static var defaultL2: Float { 0 }
    static func defaultHead(classes: Int, hidden: Int, dropout: Float, regression: Bool) -> [LayerSpec] { [] }

    var parameterShapes: [ParameterShape] { [] }
    func initialParameters(rng: inout SeededRandom) -> [String: Matrix] { [:] }
    func fit(branchOutputs: [Matrix], labels: [Int], parameters: inout [String: Matrix]) {}

    /// Runs ``forward(_:parameters:)`` and keeps its inputs and cache for ``fuseBackward``.
    func fuse(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, OperatorCache) {
        let (f, cache) = forward(h, parameters: parameters)
        return (f, OperatorCache(inputs: h, state: cache))
    }

    /// ``backward(_:_:_:parameters:gradients:needInputGradients:)`` on what ``fuse`` kept.
    func fuseBackward(
        _ cache: OperatorCache,
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        if !needInputGradients && parameterShapes.isEmpty { return [] }
        return backward(
            cache.inputs.map { $0! },
            cache.state as! Cache,
            g,
            parameters: parameters,
            gradients: &gradients,
            needInputGradients: needInputGradients
        )
    }

    /// Per-modality entries in modality order.
    func perModality(_ names: [String], _ w: [Float]) -> [FusionWeights.Entry] {
        zip(names, w).map { .init(modality: $0, classIndex: nil, weight: $1) }
    }
}

/// What an operator's forward pass kept: its inputs and its own ``FusionOperator/Cache``.
struct OperatorCache {
    /// Branch outputs, `nil` for a modality absent at inference.
    var inputs: [Matrix?]
    var state: Any
}
