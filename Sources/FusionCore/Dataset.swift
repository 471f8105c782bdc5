import TensorCore

/// How a modality's columns are to be read.
public enum ModalityKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Probability rows (each sums to 1), e.g. a softmax output.
    case probs
    /// Unnormalised class scores; a softmax turns them into probabilities.
    case logits
    /// Any vector (an embedding, hand-made features); a Dense branch maps it to classes.
    case features
}

/// One modality's outputs for every sample: an `n × d` Float32 matrix.
public struct ModalityInput: Sendable, Hashable {
    /// The modality's name, unique in its dataset (`image`, `text`…).
    public let name: String
    /// How the values are read: probabilities, logits or features.
    public let kind: ModalityKind
    /// The `n × d` values, one row per sample.
    public let values: Matrix

    /// Creates an input; ``Dataset`` validates it.
    public init(name: String, kind: ModalityKind, values: Matrix) {
        self.name = name
        self.kind = kind
        self.values = values
    }

    /// Guesses the kind of a matrix: `probs` when every row is non-negative and sums to 1 ± 1e-3,
    /// `features` otherwise (``DatasetFiles`` then reads a C-column one as logits when there are C classes).
    public static func detectKind(_ m: Matrix) -> ModalityKind {
        guard m.rows > 0, m.values.allSatisfy({ $0 >= 0 }) else { return .features }
        return m.rowSums().allSatisfy { abs($0 - 1) <= 1e-3 } ? .probs : .features
    }
}

/// What is predicted: class indices, or real values for regression.
public enum Targets: Sendable, Hashable {
    /// Class indices in `0..<classCount`, one per sample.
    case classes([Int])
    /// Real-valued targets, one per sample.
    case values([Float])

    /// The number of samples.
    public var count: Int {
        switch self {
        case .classes(let c): c.count
        case .values(let v): v.count
        }
    }

    /// The class indices, or nil for regression targets.
    var classLabels: [Int]? {
        if case .classes(let c) = self { c } else { nil }
    }
}

/// Named modality inputs with their labels, validated on construction.
///
/// Invariants: at least one modality; unique names; every matrix has the same number of rows as
/// there are labels; every value finite; `probs` rows non-negative and summing to 1 ± 1e-3;
/// class labels in `0..<classCount`.
public struct Dataset: Sendable {
    /// The inputs, one per modality, in the order given.
    public let modalities: [ModalityInput]
    /// The labels or regression targets.
    public let targets: Targets
    /// The number of classes (1 for regression).
    public let classCount: Int
    /// Optional names of the classes, `classCount` of them.
    public let classNames: [String]?

    /// The number of samples.
    public var count: Int { targets.count }

    /// The class labels (empty for regression).
    public var labels: [Int] {
        if case .classes(let c) = targets { return c }
        return []
    }

    /// True when the targets are real values rather than classes.
    public var isRegression: Bool {
        if case .values = targets { return true }
        return false
    }

    /// Creates and validates a dataset.
    /// - Parameters:
    ///   - modalities: the inputs, one per modality, each with one row per sample.
    ///   - targets: the labels or regression targets, one per sample.
    ///   - classCount: the number of classes; `nil` takes the widest of the largest label + 1,
    ///     the class names, and the width of `probs`/`logits` modalities.
    ///   - classNames: optional names of the classes, `classCount` of them.
    /// - Throws: ``FusionError`` (`invalidData`) naming the modality, row or label at fault.
    public init(
        modalities: [ModalityInput],
        targets: Targets,
        classCount: Int? = nil,
        classNames: [String]? = nil
    ) throws {
        guard !modalities.isEmpty else { throw FusionError(.invalidData, "a dataset needs at least one modality") }
        var names = Set<String>()
        for m in modalities {
            guard names.insert(m.name).inserted else {
                throw FusionError(.invalidData, "modality '\(m.name)' appears twice")
            }
            guard m.values.rows == targets.count else {
                throw FusionError(
                    .invalidData,
                    "modality '\(m.name)' has \(m.values.rows) rows but there are \(targets.count) labels (modalities must have equal lengths)"
                )
            }
            if let bad = m.values.values.firstIndex(where: { !$0.isFinite }) {
                throw FusionError(
                    .invalidData,
                    "modality '\(m.name)' has a non-finite value (\(m.values.values[bad])) at row \(bad / max(m.values.columns, 1)), column \(bad % max(m.values.columns, 1))"
                )
            }
            if m.kind == .probs {
                let sums = m.values.rowSums()
                if let row = sums.firstIndex(where: { abs($0 - 1) > 1e-3 }) {
                    throw FusionError(
                        .invalidData,
                        "modality '\(m.name)' is declared probs but row \(row) sums to \(sums[row]), not 1"
                    )
                }
                if let bad = m.values.values.firstIndex(where: { $0 < 0 }) {
                    throw FusionError(
                        .invalidData,
                        "modality '\(m.name)' is declared probs but row \(bad / m.values.columns) has a negative entry"
                    )
                }
            }
        }
        let classes: Int
        switch targets {
        case .classes(let labels):
            let widths = modalities.filter { $0.kind != .features }.map(\.values.columns)
            // The width of probability or logit outputs is the class count; labels are checked against it.
            classes = classCount ?? widths.max() ?? max(labels.max().map { $0 + 1 } ?? 0, classNames?.count ?? 0)
            if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
                throw FusionError(.invalidData, "label \(labels[bad]) at row \(bad) is out of range 0..<\(classes)")
            }
            for m in modalities where m.kind != .features && m.values.columns != classes {
                throw FusionError(
                    .invalidData,
                    "modality '\(m.name)' has \(m.values.columns) columns but there are \(classes) classes"
                )
            }
            guard classes >= 2 else {
                throw FusionError(.invalidData, "classification needs at least 2 classes, found \(classes)")
            }
        case .values(let values):
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw FusionError(.invalidData, "target at row \(bad) is not finite")
            }
            classes = 1
        }
        if let classNames, classNames.count != classes {
            throw FusionError(
                .invalidData,
                "\(classNames.count) class names were given (--classes) but the data has \(classes) classes"
            )
        }
        self.modalities = modalities
        self.targets = targets
        self.classCount = classes
        self.classNames = classNames
    }

    /// The modality called `name`.
    public func modality(_ name: String) -> ModalityInput? { modalities.first { $0.name == name } }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        let ms = modalities.map { ModalityInput(name: $0.name, kind: $0.kind, values: $0.values.gatherRows(indices)) }
        let t: Targets =
            switch targets {
            case .classes(let c): .classes(indices.map { c[$0] })
            case .values(let v): .values(indices.map { v[$0] })
            }
        // Already validated: rows come from a valid dataset.
        return try! Dataset(modalities: ms, targets: t, classCount: classCount, classNames: classNames)
    }

    /// The same samples with only the modalities named (in the order given).
    public func selecting(modalities names: [String]) throws -> Dataset {
        let ms = try names.map { name in
            guard let m = modality(name) else {
                throw FusionError(.missingModality, "the data has no modality '\(name)'")
            }
            return m
        }
        return try Dataset(modalities: ms, targets: targets, classCount: classCount, classNames: classNames)
    }
}
