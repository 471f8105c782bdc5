import TensorCore

extension FusionMethod {
    /// Per-class weights: an M×C table, softmax over modalities for each class.
    public static let classWeightedAverage = FusionMethod(named: "class-weighted-average")
}

/// `f_k = Σ_{m∈P} W_mk h_mk` with `W_·k = softmax_m(A_·k)` over the present modalities: each
/// class has its own modality weights (`fusion.weights`, M×C raw, starting uniform in [0, 1)).
/// The rows of `f` need not sum to 1; the loss and prediction renormalise them.
///
/// Backward: `∂h_mk = W_mk G_k`; with `S_mk = Σ_b G_bk h_bmk`, `∂A_jk = W_jk (S_jk − Σ_m W_mk S_mk)`.
struct ClassWeightedAverageFusion: FusionOperator {
    static let method = FusionMethod.classWeightedAverage
    static let fitting = OperatorFitting.gradient
    static let inputs = OperatorInputs.classDistributions
    static let outputSpace = OutputSpace.probabilities
    static let absentModality = AbsentModalityHandling.renormalizeWeights
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    var parameterShapes: [ParameterShape] {
        [
            ParameterShape(
                name: "fusion.weights",
                rows: context.modalityCount,
                columns: context.classCount,
                trainable: true
            )
        ]
    }

    func initialParameters(rng: inout SeededRandom) -> [String: Matrix] {
        let (rows, columns) = (context.modalityCount, context.classCount)
        return [
            "fusion.weights": Matrix(
                rows: rows,
                columns: columns,
                values: (0..<rows * columns).map { _ in rng.unitFloat() }
            )
        ]
    }

    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, Matrix) {
        let a = parameters["fusion.weights"]!
        let present = h.indices.filter { h[$0] != nil }
        let (rows, width) = (h[present[0]]!.rows, h[present[0]]!.columns)
        var weights = Matrix(rows: h.count, columns: width)
        for k in 0..<width {
            let w = FusionSpec.softmax(present.map { a[$0, k] })
            for (j, m) in present.enumerated() { weights[m, k] = w[j] }
        }
        var f = Matrix(rows: rows, columns: width)
        for m in present {
            let x = h[m]!
            for i in 0..<rows {
                for k in 0..<width { f.values[i * width + k] += weights[m, k] * x.values[i * width + k] }
            }
        }
        return (f, weights)
    }

    func backward(
        _ h: [Matrix],
        _ w: Matrix,
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        let count = h.count
        let (rows, width) = (g.rows, g.columns)
        var sums = Matrix(rows: count, columns: width)
        var out: [Matrix] = []
        for m in 0..<count {
            var d = g
            for i in 0..<rows {
                for k in 0..<width {
                    let idx = i * width + k
                    sums[m, k] += g.values[idx] * h[m].values[idx]
                    d.values[idx] = g.values[idx] * w[m, k]
                }
            }
            out.append(d)
        }
        var da = Matrix(rows: count, columns: width)
        for k in 0..<width {
            var mean: Float = 0
            for m in 0..<count { mean += w[m, k] * sums[m, k] }
            for j in 0..<count { da[j, k] = w[j, k] * (sums[j, k] - mean) }
        }
        accumulate(&gradients, "fusion.weights", da)
        return out
    }

    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] {
        let a = parameters["fusion.weights"]!
        let columns = (0..<a.columns).map { k in FusionSpec.softmax((0..<modalities.count).map { a[$0, k] }) }
        var entries: [FusionWeights.Entry] = []
        for m in modalities.indices {
            for k in 0..<a.columns {
                entries.append(.init(modality: modalities[m], classIndex: k, weight: columns[k][m]))
            }
        }
        return entries
    }
}
