import RealModule
import TensorCore

/// The training objective, chosen by the output space of the model.
enum Loss {
    /// Keras's epsilon for clipping probabilities.
    static let epsilon: Float = 1e-7

    /// Categorical cross-entropy on a probability-space output, as Keras computes it for a tensor
    /// that is not a softmax: each row is divided by its sum, clipped to `[ε, 1 − ε]`
    /// (ε = 1e-7; in Float32 the upper bound is `1 − 2⁻²³`), and `L = −mean_b log q_b,y_b`.
    /// The gradient is zero where the clip is active (the bounds count as inside), as in
    /// TensorFlow. `∂L/∂f_bj = g_b (δ_jy − q_by) / S_b` with `g_b = −1/(B q_by)`, `S_b = Σ_k f_bk`.
    static func probabilityCrossEntropy(_ f: Matrix, labels: [Int]) -> (loss: Double, gradient: Matrix) {
        let (rows, n) = (f.rows, f.columns)
        var gradient = Matrix(rows: rows, columns: n)
        var total = 0.0
        let upper = 1 - epsilon
        for i in 0..<rows {
            let y = labels[i]
            var s: Float = 0
            for k in 0..<n { s += f.values[i * n + k] }
            let q = f.values[i * n + y] / s
            let clipped = Swift.min(Swift.max(q, epsilon), upper)
            total -= Double(Float.log(clipped))
            guard q >= epsilon && q <= upper else { continue }
            let gy = -1 / (Float(rows) * q)
            for k in 0..<n { gradient.values[i * n + k] = gy * ((k == y ? 1 : 0) - q) / s }
        }
        return (total / Double(rows), gradient)
    }

    /// Cross-entropy from logits: `L = mean_b (logsumexp(z_b) − z_b,y)`, unclipped, computed
    /// with a stable log-softmax. `∂L/∂z = (softmax(z) − onehot(y)) / B`.
    static func logitCrossEntropy(_ z: Matrix, labels: [Int]) -> (loss: Double, gradient: Matrix) {
        let logp = z.logSoftmaxRows()
        let n = z.columns
        var gradient = Matrix(rows: z.rows, columns: n)
        var total = 0.0
        let scale = 1 / Float(z.rows)
        for i in 0..<z.rows {
            total -= Double(logp.values[i * n + labels[i]])
            for k in 0..<n { gradient.values[i * n + k] = Float.exp(logp.values[i * n + k]) * scale }
            gradient.values[i * n + labels[i]] -= scale
        }
        return (total / Double(z.rows), gradient)
    }

    /// Mean squared error `L = mean_b (y_b − t_b)²` for a single output; `∂L/∂y = 2(y − t)/B`.
    static func meanSquaredError(_ y: Matrix, targets: [Float]) -> (loss: Double, gradient: Matrix) {
        var gradient = Matrix(rows: y.rows, columns: 1)
        var total = 0.0
        for i in 0..<y.rows {
            let d = y.values[i] - targets[i]
            total += Double(d * d)
            gradient.values[i] = 2 * d / Float(y.rows)
        }
        return (total / Double(y.rows), gradient)
    }
}
