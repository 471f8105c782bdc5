/// The name of a fusion method (DESIGN §3), as it appears in a stored spec and on the command line.
///
/// Each method is one `FusionOperator` type in `Sources/FusionCore/Operators/`; its static
/// name (``FusionMethod/weightedAverage`` and so on) lives in that file, and `operators` is the
/// one table from names to types. Decoding a name that is not in the table fails.
public struct FusionMethod: Sendable, Hashable, Codable, CaseIterable, RawRepresentable, CustomStringConvertible {
    public let rawValue: String

    /// The method called `rawValue`, or nil when no operator has that name.
    public init?(rawValue: String) {
        guard Self.operatorTypes[rawValue] != nil else { return nil }
        self.rawValue = rawValue
    }

    /// For the static names declared beside each operator.
    init(named name: String) { rawValue = name }

    /// Every fusion method, in the order help texts list them: the table of operators.
    static let operators: [any FusionOperator.Type] = [
        MeanFusion.self,
        SumFusion.self,
        MaxFusion.self,
        MinFusion.self,
        ProductFusion.self,
        VoteFusion.self,
        ConcatFusion.self,
        WeightedAverageFusion.self,
        ClassWeightedAverageFusion.self,
        LogLinearFusion.self,
        StackingFusion.self,
        GatedFusion.self,
        ConcatMLPFusion.self,
        EnsembleSelectionFusion.self,
    ]

    private static let operatorTypes = Dictionary(uniqueKeysWithValues: operators.map { ($0.method.rawValue, $0) })

    public static var allCases: [FusionMethod] { operators.map { $0.method } }

    /// The type that implements the method.
    var operatorType: any FusionOperator.Type { Self.operatorTypes[rawValue]! }

    /// True when the method's parameters (its own or its default head's) are fitted to data.
    public var isLearned: Bool {
        operatorType.fitting != .none || operatorType.inputs == .concatenated  // a concatenation feeds a trained head
    }

    /// What the method does at inference when a modality is absent.
    public var absentModality: AbsentModalityHandling { operatorType.absentModality }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let method = FusionMethod(rawValue: name) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown fusion method '\(name)'")
            )
        }
        self = method
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
