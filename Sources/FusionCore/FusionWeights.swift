import TensorCore

/// How much each modality counts in a fused model, as a user reads it.
///
/// - weighted-average: `softmax(a)`, one weight per modality, positive, summing to 1.
/// - class-weighted-average: an M×C table, each class's column summing to 1.
/// - log-linear: `softplus(a)`, non-negative, not normalised (the exponent of each modality).
/// - gated: the mean per-sample gate weight over the data it was computed on.
/// - stacking: each modality's share of `Σ|K|` (a measure of reliance, summing to 1).
/// - mean/sum/vote/product: uniform `1/M`. Others: none.
public struct FusionWeights: Sendable, Hashable {
    public struct Entry: Sendable, Hashable, Codable {
        public let modality: String
        /// The class index for per-class weights, `nil` for a per-modality weight.
        public let classIndex: Int?
        public let weight: Float
        public init(modality: String, classIndex: Int?, weight: Float) {
            self.modality = modality
            self.classIndex = classIndex
            self.weight = weight
        }
    }

    public let entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// Per-modality weights, averaging per-class ones over classes.
    public var perModality: [(modality: String, weight: Float)] {
        var order: [String] = []
        var sums: [String: (Float, Int)] = [:]
        for e in entries {
            if sums[e.modality] == nil { order.append(e.modality) }
            let (s, n) = sums[e.modality] ?? (0, 0)
            sums[e.modality] = (s + e.weight, n + 1)
        }
        return order.map { ($0, sums[$0]!.0 / Float(sums[$0]!.1)) }
    }
}
