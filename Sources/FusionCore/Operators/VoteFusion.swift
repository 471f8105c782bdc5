import TensorCore

extension FusionMethod {
    /// Majority vote of the modalities' predicted classes, ties broken by the mean probability.
    public static let vote = FusionMethod(named: "vote")
}

/// Majority vote: `f_k = (votes_k + mean_k) / (|P| + 1)`, where `votes_k` counts the present
/// modalities whose argmax is k and `mean_k = Σ_{m∈P} h_mk / |P|` breaks ties (it is below 1,
/// so it never outweighs a vote). The rows sum to 1. Votes are piecewise constant, so only the
/// mean term carries a gradient: `∂h_m = G / (M(M + 1))`.
struct VoteFusion: FusionOperator {
    static let method = FusionMethod.vote
    static let fitting = OperatorFitting.none
    static let inputs = OperatorInputs.classDistributions
    static let outputSpace = OutputSpace.probabilities
    static let absentModality = AbsentModalityHandling.presentModalitiesOnly
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, Void) {
        let present = h.compactMap { $0 }
        var f = Matrix(rows: present[0].rows, columns: present[0].columns)
        for x in present {
            for (i, k) in x.argmaxRows().enumerated() { f[i, k] += 1 }
            f = f + x * (1 / Float(present.count))
        }
        return (f * (1 / Float(present.count + 1)), ())
    }

    func backward(
        _ h: [Matrix],
        _ cache: Void,
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        h.map { _ in g * (1 / Float(h.count * (h.count + 1))) }
    }

    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] {
        perModality(modalities, [Float](repeating: 1 / Float(modalities.count), count: modalities.count))
    }
}
