import RealModule
import TensorCore

/// Which optimiser updates the parameters: mini-batch `adam` or `sgd`, or full-batch
/// quasi-Newton `lbfgs`.
public enum OptimizerKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Adam in Keras's form (β1 0.9, β2 0.999, ε 1e-7), on mini-batches.
    case adam
    /// Stochastic gradient descent with ``TrainingConfiguration/momentum``, on mini-batches.
    case sgd
    /// Full-batch limited-memory BFGS with a backtracking line search, for the convex heads.
    case lbfgs
}

/// Gradient-descent state over named parameters.
///
/// - Adam, in Keras's form (β1 0.9, β2 0.999, ε 1e-7): `m ← β1 m + (1−β1) g`,
///   `v ← β2 v + (1−β2) g²`, `θ ← θ − lr · √(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε)` (ε added to √v, not to √v̂).
/// - SGD with momentum μ, in Keras's form: `u ← μ u − lr g`, `θ ← θ + u` (μ = 0: `θ ← θ − lr g`).
struct Optimizer {
    let kind: OptimizerKind
    let learningRate: Float
    var momentum: Float = 0
    var beta1: Float = 0.9
    var beta2: Float = 0.999
    var epsilon: Float = 1e-7
    private var step = 0
    private var first: [String: [Float]] = [:]
    private var second: [String: [Float]] = [:]

    init(kind: OptimizerKind, learningRate: Float, momentum: Float = 0) {
        self.kind = kind
        self.learningRate = learningRate
        self.momentum = momentum
    }

    mutating func update(_ parameters: inout [String: Matrix], gradients: [String: Matrix]) {
        step += 1
        let t = Float(step)
        let correction = learningRate * (1 - Float.pow(beta2, t)).squareRoot() / (1 - Float.pow(beta1, t))
        for (name, g) in gradients {
            var p = parameters.removeValue(forKey: name)!
            defer { parameters[name] = p }
            switch kind {
            case .adam:
                var m = first.removeValue(forKey: name) ?? [Float](repeating: 0, count: g.values.count)
                var v = second.removeValue(forKey: name) ?? [Float](repeating: 0, count: g.values.count)
                let (beta1, beta2, epsilon) = (beta1, beta2, epsilon)
                p.values.withUnsafeMutableBufferPointer { pv in
                    m.withUnsafeMutableBufferPointer { mv in
                        v.withUnsafeMutableBufferPointer { vv in
                            g.values.withUnsafeBufferPointer { gv in
                                for i in gv.indices {
                                    let gi = gv[i]
                                    mv[i] = beta1 * mv[i] + (1 - beta1) * gi
                                    vv[i] = beta2 * vv[i] + (1 - beta2) * gi * gi
                                    pv[i] -= correction * mv[i] / (vv[i].squareRoot() + epsilon)
                                }
                            }
                        }
                    }
                }
                first[name] = m
                second[name] = v
            case .lbfgs:
                preconditionFailure("L-BFGS is full batch: Trainer runs it through LBFGS, not Optimizer")
            case .sgd:
                if momentum == 0 {
                    for i in g.values.indices { p.values[i] -= learningRate * g.values[i] }
                } else {
                    var u = first[name] ?? [Float](repeating: 0, count: g.values.count)
                    for i in g.values.indices {
                        u[i] = momentum * u[i] - learningRate * g.values[i]
                        p.values[i] += u[i]
                    }
                    first[name] = u
                }
            }
        }
    }
}
