import TensorCore

extension FusionMethod {
    /// The classic answer: one learned scalar per modality, softmax-normalised.
    public static let weightedAverage = FusionMethod(named: "weighted-average")
}

/// `f = Σ_{m∈P} w_m h_m` with `w = softmax(a_P)`: one raw weight `a_m` per modality
/// (`fusion.weights`, 1×M, starting uniform in [0, 1) like the original Keras layer); the weights
/// are positive and sum to 1 over the modalities present.
///
/// Backward: `∂h_m = w_m G`; with `s_m = Σ G ⊙ h_m`, `∂a_j = w_j (s_j − Σ_m w_m s_m)`.
struct WeightedAverageFusion: FusionOperator {
    static let method = FusionMethod.weightedAverage
    static let fitting = OperatorFitting.gradient
    static let inputs = OperatorInputs.equalWidths
    static let outputSpace = OutputSpace.probabilities
    static let absentModality = AbsentModalityHandling.renormalizeWeights
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    var parameterShapes: [ParameterShape] {
        [ParameterShape(name: "fusion.weights", rows: 1, columns: context.modalityCount, trainable: true)]
    }

    func initialParameters(rng: inout SeededRandom) -> [String: Matrix] {
        [
            "fusion.weights": Matrix(
                rows: 1,
                columns: context.modalityCount,
                values: (0..<context.modalityCount).map { _ in rng.unitFloat() }
            )
        ]
    }

    /// The normalised weights over the present modalities (zero for the absent ones).
    func normalizedWeights(_ h: [Matrix?], _ parameters: [String: Matrix]) -> [Float] {
        let a = parameters["fusion.weights"]!.values
        let present = h.indices.filter { h[$0] != nil }
        let normalized = FusionSpec.softmax(present.map { a[$0] })
        var w = [Float](repeating: 0, count: h.count)
        for (j, m) in present.enumerated() { w[m] = normalized[j] }
        return w
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
        let count = h.count
        let s = h.map { x in FusionSpec.dot(g.values, x.values) }
        let mean = zip(w, s).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        accumulate(
            &gradients,
            "fusion.weights",
            Matrix(rows: 1, columns: count, values: (0..<count).map { w[$0] * (s[$0] - mean) })
        )
        return needInputGradients ? w.map { g * $0 } : []
    }

    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] {
        perModality(modalities, FusionSpec.softmax(parameters["fusion.weights"]!.values))
    }
}
