import TensorCore

/// How an operator's output is read: probabilities (renormalised by the loss and at prediction),
/// logits (turned into probabilities by a softmax), or a vector that feeds a head.
enum OutputSpace { case probabilities, logits, vector }

/// One layer of a branch or of the head.
public enum LayerSpec: Sendable, Hashable, Codable {
    /// `y = x·K + b`, Glorot-uniform `K`, zero `b`.
    case dense(units: Int)
    /// `y = max(0, x)`, element-wise.
    case relu
    /// Inverted dropout: at training, each unit is zeroed with probability `rate` and survivors scaled by `1/(1 − rate)`.
    case dropout(rate: Float)
    /// Row-wise softmax.
    case softmax
}

/// How one modality's input becomes a vector the fusion operator can combine.
public struct ModalitySpec: Sendable, Hashable, Codable {
    /// The modality this branch reads (a ``ModalityInput/name``).
    public var name: String
    /// How the input is read.
    public var kind: ModalityKind
    /// Input width `d`.
    public var width: Int
    /// A learned temperature `T = exp(τ)` (τ starts at 0): probabilities become
    /// `softmax(log p / T)`, logits `softmax(z / T)`. Not used for `features`.
    public var temperature: Bool
    /// For `features`: standardise each column with the training mean and standard deviation
    /// (stored with the model as non-trainable tensors).
    public var standardize: Bool
    /// Layers after the input (after standardisation). For `features` the default is
    /// `[.dense(units: classes), .softmax]`; for `probs` none; for `logits` `[.softmax]` unless a
    /// temperature applies it.
    public var layers: [LayerSpec]
    /// The branch's own L2 strength `λ` on its Dense kernels (chosen by cross-validation for a
    /// cross-fitted branch, see ``CrossFittedBranches``); nil applies the spec's ``FusionSpec/l2``.
    public var l2: Float?

    /// Creates a branch. A temperature is dropped for `features`; `standardize` defaults to true for `features` only.
    public init(
        name: String,
        kind: ModalityKind,
        width: Int,
        temperature: Bool = false,
        standardize: Bool? = nil,
        layers: [LayerSpec]
    ) {
        self.name = name
        self.kind = kind
        self.width = width
        self.temperature = temperature && kind != .features
        self.standardize = standardize ?? (kind == .features)
        self.layers = layers
    }

    /// True for the branch ``standard(name:kind:width:classes:temperature:)`` gives a `features`
    /// modality of a classifier, standardise → `Dense(classes)` → softmax: a multinomial logistic
    /// regression that can be fitted on its own (``CrossFittedBranches``).
    func isLogisticBranch(classes: Int) -> Bool {
        kind == .features && standardize && layers == [.dense(units: classes), .softmax]
    }

    /// True when the branch has trainable parameters (a temperature or Dense layers).
    var hasParameters: Bool { temperature || layers.contains { if case .dense = $0 { true } else { false } } }

    /// The default branch for a modality: identity for probabilities, softmax for logits, and
    /// standardise → `Dense(classes)` → softmax for features, so a raw feature view works as is.
    public static func standard(
        name: String,
        kind: ModalityKind,
        width: Int,
        classes: Int,
        temperature: Bool = false
    ) -> ModalitySpec {
        switch kind {
        case .probs: ModalitySpec(name: name, kind: kind, width: width, temperature: temperature, layers: [])
        case .logits:
            ModalitySpec(
                name: name,
                kind: kind,
                width: width,
                temperature: temperature,
                layers: temperature ? [] : [.softmax]
            )
        case .features: ModalitySpec(name: name, kind: kind, width: width, layers: [.dense(units: classes), .softmax])
        }
    }
}

/// What to do at inference when a modality's input is absent.
public enum MissingModalityPolicy: String, Sendable, Hashable, Codable {
    /// Weights are renormalised over the modalities present (for `concat`, `stacking` and
    /// `concat-mlp`, an absent modality is replaced by the uniform distribution `1/C`).
    case renormalize
    /// An absent modality is an error.
    case refuse
}

/// What a model predicts.
public enum Task: String, Sendable, Hashable, Codable {
    /// One of `classCount` classes, as class probabilities.
    case classification
    /// One real value (the spec's `classCount` is 1).
    case regression
}

/// A complete description of a fused model. With the class count it determines every parameter
/// tensor's name and shape (see ``FusionSpec/parameterShapes``), so a spec plus tensors is a model.
public struct FusionSpec: Sendable, Hashable, Codable {
    /// Incremented when the meaning of a field changes; readers refuse newer formats.
    public static let currentFormatVersion = 1

    /// The spec format this value was written in (``currentFormatVersion`` for new specs).
    public var formatVersion: Int
    /// Classification or regression.
    public var task: Task
    /// Output width: the number of classes, or 1 for regression.
    public var classCount: Int
    /// Optional display names of the classes, `classCount` of them.
    public var classNames: [String]?
    /// One branch per modality, in the order the operator combines them.
    public var modalities: [ModalitySpec]
    /// How the branch outputs are combined (see <doc:ChoosingAFusionMethod>).
    public var method: FusionMethod
    /// Layers after fusion; the last Dense gives logits (classification) or the value (regression).
    public var head: [LayerSpec]
    /// What prediction does when a modality is absent.
    public var missingModalities: MissingModalityPolicy
    /// L2 penalty `λ/2 · Σ K²` on Dense kernels and the stacking matrix (0 = none).
    public var l2: Float
    /// Set when the `features` branches were fitted on their own and the operator and head on
    /// their `K`-fold out-of-fold probabilities (``CrossFittedBranches``); nil when every part was
    /// trained together, end to end. It records how the model was made; prediction is the same.
    public var branchFolds: Int?

    /// Creates a spec at the current format version; ``validate()`` checks it against the operator's rules.
    public init(
        task: Task = .classification,
        classCount: Int,
        classNames: [String]? = nil,
        modalities: [ModalitySpec],
        method: FusionMethod,
        head: [LayerSpec] = [],
        missingModalities: MissingModalityPolicy = .renormalize,
        l2: Float = 0
    ) {
        self.formatVersion = Self.currentFormatVersion
        self.task = task
        self.classCount = classCount
        self.classNames = classNames
        self.modalities = modalities
        self.method = method
        self.head = head
        self.missingModalities = missingModalities
        self.l2 = l2
    }

    /// The usual spec for a dataset and method: standard branches (``ModalitySpec/standard(name:kind:width:classes:temperature:)``),
    /// the method's default head (for `concat-mlp`, `Dense(hidden, relu) → Dropout(dropout) → Dense(C)`)
    /// and its default L2 strength.
    public static func standard(
        for data: Dataset,
        method: FusionMethod,
        hidden: Int = 128,
        dropout: Float = 0.2,
        temperature: Bool = false,
        l2: Float? = nil
    ) -> FusionSpec {
        let classes = data.classCount
        let modalities = data.modalities.map { m -> ModalitySpec in
            if data.isRegression {
                return ModalitySpec(
                    name: m.name,
                    kind: m.kind,
                    width: m.values.columns,
                    layers: [.dense(units: hidden), .relu]
                )
            }
            return ModalitySpec.standard(
                name: m.name,
                kind: m.kind,
                width: m.values.columns,
                classes: classes,
                temperature: temperature
            )
        }
        let fusion = method.operatorType
        var head = fusion.defaultHead(classes: classes, hidden: hidden, dropout: dropout, regression: data.isRegression)
        if data.isRegression { head += [.dense(units: 1)] }
        return FusionSpec(
            task: data.isRegression ? .regression : .classification,
            classCount: classes,
            classNames: data.classNames,
            modalities: modalities,
            method: method,
            head: head,
            l2: l2 ?? fusion.defaultL2
        )
    }

    /// The modalities whose branch is a logistic regression that can be fitted on its own (classification only).
    public var crossFittableModalities: [String] {
        task == .classification ? modalities.filter { $0.isLogisticBranch(classes: classCount) }.map(\.name) : []
    }

    /// The spec of everything after the named branches: each becomes a `probs` input of
    /// ``classCount`` columns, which is what its logistic regression outputs.
    func headSpec(replacing names: [String]) -> FusionSpec {
        var head = self
        head.modalities = modalities.map { m in
            names.contains(m.name)
                ? ModalitySpec(name: m.name, kind: .probs, width: classCount, layers: []) : m
        }
        head.branchFolds = nil
        return head
    }

    /// The operator that implements ``method`` for this spec's modalities and classes.
    var fusionOperator: any FusionOperator {
        method.operatorType.init(
            FusionContext(
                modalityCount: modalities.count,
                classCount: classCount,
                branchWidths: modalities.map(branchWidth)
            )
        )
    }

    /// The width of a branch's output.
    func branchWidth(_ m: ModalitySpec) -> Int {
        var width = m.width
        for case .dense(let units) in m.layers { width = units }
        return width
    }

    /// Checks that the spec is consistent: names unique, widths matching for the operator, a head
    /// that ends in the output width, a supported format.
    public func validate() throws {
        guard formatVersion <= Self.currentFormatVersion else {
            throw FusionError(
                .invalidSpec,
                "spec format \(formatVersion) is newer than this fusebox understands (\(Self.currentFormatVersion)); upgrade fusebox"
            )
        }
        guard !modalities.isEmpty else { throw FusionError(.invalidSpec, "a spec needs at least one modality") }
        guard Set(modalities.map(\.name)).count == modalities.count else {
            throw FusionError(.invalidSpec, "modality names must be unique")
        }
        guard classCount >= 1 else { throw FusionError(.invalidSpec, "classCount must be at least 1") }
        let widths = modalities.map(branchWidth)
        let inputs = method.operatorType.inputs
        if inputs != .concatenated, Set(widths).count != 1 {
            throw FusionError(.invalidSpec, "'\(method.rawValue)' needs branch outputs of equal width, got \(widths)")
        }
        if inputs == .classDistributions {
            guard widths[0] == classCount, task == .classification else {
                throw FusionError(
                    .invalidSpec,
                    "'\(method.rawValue)' combines class distributions: branch outputs must have \(classCount) columns"
                )
            }
        }
        if inputs == .concatenated || !head.isEmpty {
            guard case .dense(let units)? = head.last(where: { if case .dense = $0 { true } else { false } }),
                units == classCount
            else {
                throw FusionError(.invalidSpec, "the head must end with Dense(\(classCount))")
            }
        } else if widths[0] != classCount {
            throw FusionError(.invalidSpec, "without a head, branch outputs must have \(classCount) columns")
        }
        for case .dropout(let rate) in modalities.flatMap(\.layers) + head where !(0..<1).contains(rate) {
            throw FusionError(.invalidSpec, "dropout rate \(rate) is not in [0, 1)")
        }
    }
}
