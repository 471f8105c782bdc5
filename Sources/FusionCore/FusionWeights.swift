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
    /// One weight: a modality's, or a modality's for one class.
    public struct Entry: Sendable, Hashable, Codable {
        /// The modality the weight belongs to.
        public let modality: String
        /// The class index for per-class weights, `nil` for a per-modality weight.
        public let classIndex: Int?
        /// The weight, read as described on ``FusionWeights``.
        public let weight: Float
        /// Creates an entry.
        public init(modality: String, classIndex: Int?, weight: Float) {
            self.modality = modality
            self.classIndex = classIndex
            self.weight = weight
        }
    }

    /// The weights, modality by modality (and class by class for per-class weights); empty when the method has none.
    public let entries: [Entry]

    /// Creates a report from its entries.
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
