import RealModule
import TensorCore

/// Multinomial logistic regression `p = softmax(x·W + b)`, fitted full batch by L-BFGS to the
/// penalised mean log-loss
///
///     L(W, b) = −(1/n) Σᵢ log pᵢ,yᵢ + (λ/2)‖W‖²      (the bias is not penalised)
///
/// with `∂L/∂W = Xᵀ(P − Y)/n + λW` and `∂L/∂b = 1ᵀ(P − Y)/n` (`Y` one-hot). This is scikit-learn's
/// `LogisticRegression(C=1/(λn))` on the same rows, and the same penalty convention as
/// ``FusionSpec/l2``, so a fitted regression is exactly a `features` branch's `Dense → softmax`.
struct LogisticRegression: Sendable {
    /// `d × C`.
    var kernel: Matrix
    /// `1 × C`.
    var bias: Matrix

    /// All zeros: every class equally likely.
    init(features: Int, classes: Int) {
        kernel = Matrix(rows: features, columns: classes)
        bias = Matrix(rows: 1, columns: classes)
    }

    init(kernel: Matrix, bias: Matrix) {
        self.kernel = kernel
        self.bias = bias
    }

    /// Class probabilities for the rows of `x`.
    func probabilities(_ x: Matrix) -> Matrix { logits(x).softmaxRows() }

    func logits(_ x: Matrix) -> Matrix {
        var z = Matrix.multiply(x, kernel)
        z.addRowVector(bias.values)
        return z
    }

    /// The parameters as one vector: the kernel row by row, then the bias.
    var flattened: [Double] { (kernel.values + bias.values).map(Double.init) }

    init(flattened x: [Double], features: Int, classes: Int) {
        let k = features * classes
        kernel = Matrix(rows: features, columns: classes, values: x[0..<k].map { Float($0) })
        bias = Matrix(rows: 1, columns: classes, values: x[k...].map { Float($0) })
    }

    /// `L` and its gradient (flattened as ``flattened``) on `x` (n × d) and `labels`.
    func objective(_ x: Matrix, labels: [Int], l2: Double) -> (value: Double, gradient: [Double]) {
        let (loss, dz) = Loss.logitCrossEntropy(logits(x), labels: labels)
        let dKernel = Matrix.multiply(x, transposingA: true, dz)
        var penalty = 0.0
        var gradient = [Double](repeating: 0, count: kernel.values.count + bias.values.count)
        for i in kernel.values.indices {
            let w = Double(kernel.values[i])
            penalty += w * w
            gradient[i] = Double(dKernel.values[i]) + l2 * w
        }
        for (j, g) in dz.columnSums().enumerated() { gradient[kernel.values.count + j] = Double(g) }
        return (loss + l2 / 2 * penalty, gradient)
    }

    /// Fits on `x` (n × d, already standardised) from `start` (zeros when nil).
    ///
    /// L-BFGS stops when every gradient element is at most `gradientTolerance` (scikit-learn's
    /// `tol`, on the same mean-loss scale), when no step lowers `L` any more, or after `maxIterations`.
    static func fit(
        _ x: Matrix,
        labels: [Int],
        classes: Int,
        l2: Double,
        from start: LogisticRegression? = nil,
        maxIterations: Int = 100,
        gradientTolerance: Double = 1e-4
    ) -> (model: LogisticRegression, objective: Double, iterations: Int) {
        let initial = start ?? LogisticRegression(features: x.columns, classes: classes)
        let solver = LBFGS(maxIterations: maxIterations, gradientTolerance: gradientTolerance)
        let solution = solver.minimize(
            from: initial.flattened,
            objective: {
                LogisticRegression(flattened: $0, features: x.columns, classes: classes).objective(
                    x,
                    labels: labels,
                    l2: l2
                )
            },
            onIteration: { _, _, _ in true }
        )
        return (
            LogisticRegression(flattened: solution.x, features: x.columns, classes: classes), solution.value,
            solution.iterations
        )
    }
}
