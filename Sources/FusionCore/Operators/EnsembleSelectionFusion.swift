import RealModule
import TensorCore

extension FusionMethod {
    /// Greedy ensemble selection (Caruana et al., 2004): weights are how often each modality was
    /// picked to lower the held-out log-loss.
    public static let ensembleSelection = FusionMethod(named: "ensemble-selection")
}

/// Greedy ensemble selection (Caruana, Niculescu-Mizil, Crew and Ksikes, ICML 2004), the
/// "weighted ensemble" AutoGluon fits on top of its models.
///
/// Fitting starts from the empty ensemble and, for ``rounds`` rounds, adds (with replacement) the
/// modality whose inclusion gives the lowest log-loss of the averaged distribution on held-out
/// data (the validation set when there is one): with `S` the multiset picked so far, it adds
/// `argmin_m −(1/n) Σ_i log((Σ_{j∈S} h_j,iy_i + h_m,iy_i) / (|S| + 1))` (ties to the first modality).
/// The weights `w_m = count_m / rounds` (`fusion.weights`, 1×M, not trained by gradient; uniform
/// `1/M` before fitting) are non-negative, sum to 1, and are multiples of `1/rounds`.
///
/// Prediction is the weighted average over the modalities present, renormalised:
/// `f = Σ_{m∈P} w_m h_m / Σ_{m∈P} w_m` (the plain mean of P when none of them was picked), so
/// `∂h_m = ŵ_m G` with `ŵ` the renormalised weights.
struct EnsembleSelectionFusion: FusionOperator {
    static let method = FusionMethod.ensembleSelection
    static let fitting = OperatorFitting.direct
    static let inputs = OperatorInputs.classDistributions
    static let outputSpace = OutputSpace.probabilities
    static let absentModality = AbsentModalityHandling.renormalizeWeights
    /// The number of picks (AutoGluon's default ensemble size).
    static let rounds = 25
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    var parameterShapes: [ParameterShape] {
        [ParameterShape(name: "fusion.weights", rows: 1, columns: context.modalityCount, trainable: false)]
    }

    func initialParameters(rng: inout SeededRandom) -> [String: Matrix] {
        ["fusion.weights": Matrix(rows: 1, columns: context.modalityCount, repeating: 1 / Float(context.modalityCount))]
    }

    /// The weights renormalised over the present modalities (uniform over them if all are zero).
    func normalizedWeights(_ h: [Matrix?], _ parameters: [String: Matrix]) -> [Float] {
        let w = parameters["fusion.weights"]!.values
        let present = h.indices.filter { h[$0] != nil }
        let total = present.reduce(Float(0)) { $0 + w[$1] }
        return h.indices.map { m in
            guard h[m] != nil else { return 0 }
            return total > 0 ? w[m] / total : 1 / Float(present.count)
        }
    }

    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, [Float]) {
        let w = normalizedWeights(h, parameters)
        let any = h.first { $0 != nil }!!
        return (FusionSpec.weightedSum(h, w, rows: any.rows, width: any.columns), w)
    }

    func backward(
        _ h: [Matrix],
        _ w: [Float],
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        needInputGradients ? w.map { g * $0 } : []
    }

    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] {
        perModality(modalities, parameters["fusion.weights"]!.values)
    }

    func fit(branchOutputs h: [Matrix], labels: [Int], parameters: inout [String: Matrix]) {
        let n = labels.count
        // Only the true class's probability enters the log-loss: p_m,i = h_m[i, y_i].
        let truth = h.map { x in labels.indices.map { Double(x[$0, labels[$0]]) } }
        var sum = [Double](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: h.count)
        for round in 0..<Self.rounds {
            var best: (loss: Double, modality: Int)?
            for m in h.indices {
                var loss = 0.0
                for i in 0..<n { loss -= Double.log(Swift.max((sum[i] + truth[m][i]) / Double(round + 1), 1e-15)) }
                if best == nil || loss < best!.loss { best = (loss, m) }
            }
            let m = best!.modality
            counts[m] += 1
            for i in 0..<n { sum[i] += truth[m][i] }
        }
        parameters["fusion.weights"] = Matrix(
            rows: 1,
            columns: h.count,
            values: counts.map { Float($0) / Float(Self.rounds) }
        )
    }
}
