import RealModule
import TensorCore

/// What a layer's forward pass keeps for its backward pass.
enum LayerCache {
    case dense(input: Matrix, kernel: String, bias: String)
    case relu(output: Matrix)
    case dropout(mask: Matrix?)
    case softmax(output: Matrix)
}

/// Runs `layers` forward, returning the output and the caches for ``backwardLayers``.
///
/// - Dense: `y = x·K + b`.  ReLU: `y = max(x, 0)`.  Softmax: row-wise.
/// - Dropout (training only): `y = x ⊙ m`, `m_ij ∈ {0, 1/(1 − r)}` with `P(0) = r`.
func forwardLayers(
    _ layers: [LayerSpec],
    prefix: String,
    _ x: Matrix,
    parameters: [String: Matrix],
    training: Bool,
    rng: inout SeededRandom
) -> (Matrix, [LayerCache]) {
    var h = x
    var caches: [LayerCache] = []
    var dense = 0
    for layer in layers {
        switch layer {
        case .dense:
            let k = "\(prefix).dense\(dense).kernel"
            let b = "\(prefix).dense\(dense).bias"
            dense += 1
            var y = Matrix.multiply(h, parameters[k]!)
            y.addRowVector(parameters[b]!.values)
            caches.append(.dense(input: h, kernel: k, bias: b))
            h = y
        case .relu:
            h.values.withUnsafeMutableBufferPointer { v in for i in v.indices { v[i] = Swift.max(v[i], 0) } }
            caches.append(.relu(output: h))
        case .dropout(let rate):
            guard training, rate > 0 else {
                caches.append(.dropout(mask: nil))
                continue
            }
            // Each unit is dropped when a uniform 24-bit draw is below rate·2²⁴; one 64-bit draw
            // serves two units.
            let scale = 1 / (1 - rate)
            let threshold = UInt64(rate * 16_777_216)
            var mask = [Float](repeating: 0, count: h.values.count)
            var i = 0
            while i < mask.count {
                let r = rng.next()
                mask[i] = (r >> 40) < threshold ? 0 : scale
                if i + 1 < mask.count { mask[i + 1] = ((r >> 16) & 0xFF_FFFF) < threshold ? 0 : scale }
                i += 2
            }
            h.values.withUnsafeMutableBufferPointer { v in
                mask.withUnsafeBufferPointer { m in for j in v.indices { v[j] *= m[j] } }
            }
            caches.append(.dropout(mask: Matrix(rows: h.rows, columns: h.columns, values: mask)))
        case .softmax:
            h = h.softmaxRows()
            caches.append(.softmax(output: h))
        }
    }
    return (h, caches)
}

/// Back-propagates `gradient` (∂L/∂output) through the layers, adding parameter gradients to
/// `gradients`, and returns ∂L/∂input.
///
/// - Dense: `∂K = xᵀ·G`, `∂b = Σ_rows G`, `∂x = G·Kᵀ`.
/// - ReLU: `∂x = G ⊙ [y > 0]`.  Dropout: `∂x = G ⊙ m`.
/// - Softmax: `∂x_ij = y_ij (G_ij − Σ_k G_ik y_ik)`.
@discardableResult
func backwardLayers(
    _ caches: [LayerCache],
    _ gradient: Matrix,
    parameters: [String: Matrix],
    gradients: inout [String: Matrix],
    needInputGradient: Bool = true
) -> Matrix? {
    var g = gradient
    for (index, cache) in caches.enumerated().reversed() {
        let isFirst = index == 0
        switch cache {
        case .dense(let input, let k, let b):
            accumulate(&gradients, k, Matrix.multiply(input, transposingA: true, g))
            accumulate(&gradients, b, Matrix(rows: 1, columns: g.columns, values: g.columnSums()))
            if isFirst && !needInputGradient { return nil }
            g = Matrix.multiply(g, parameters[k]!, transposingB: true)
        case .relu(let output):
            g.values.withUnsafeMutableBufferPointer { gv in
                output.values.withUnsafeBufferPointer { y in
                    for i in gv.indices where y[i] <= 0 { gv[i] = 0 }
                }
            }
        case .dropout(let mask):
            guard let mask else { continue }
            g.values.withUnsafeMutableBufferPointer { gv in
                mask.values.withUnsafeBufferPointer { m in for i in gv.indices { gv[i] *= m[i] } }
            }
        case .softmax(let y):
            g = softmaxBackward(y, g)
        }
    }
    return g
}

/// `∂L/∂x` for `y = softmax(x)` row-wise: `y_ij (G_ij − Σ_k G_ik y_ik)`.
func softmaxBackward(_ y: Matrix, _ g: Matrix) -> Matrix {
    var out = g
    let n = y.columns
    out.values.withUnsafeMutableBufferPointer { o in
        y.values.withUnsafeBufferPointer { yv in
            g.values.withUnsafeBufferPointer { gv in
                for i in 0..<y.rows {
                    var dot: Float = 0
                    for j in 0..<n { dot += gv[i * n + j] * yv[i * n + j] }
                    for j in 0..<n { o[i * n + j] = yv[i * n + j] * (gv[i * n + j] - dot) }
                }
            }
        }
    }
    return out
}

/// Adds `g` to `gradients[name]` (creating it).
func accumulate(_ gradients: inout [String: Matrix], _ name: String, _ g: Matrix) {
    if let existing = gradients[name] { gradients[name] = existing + g } else { gradients[name] = g }
}

/// The smallest probability whose logarithm is taken; below it the log is clamped (zero gradient).
let logFloor: Float = 1e-30

/// `log(max(p, 1e-30))` element-wise.
func clampedLog(_ m: Matrix) -> Matrix { m.map { Float.log(Swift.max($0, logFloor)) } }
