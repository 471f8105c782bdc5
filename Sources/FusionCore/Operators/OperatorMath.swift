import RealModule
import TensorCore

/// Small numerical helpers the operators share.
extension FusionSpec {
    /// `Σ a_i b_i`, accumulated in 8 lanes so the loop vectorises.
    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        var lanes = SIMD8<Float>()
        let n = a.count
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                var i = 0
                while i + 8 <= n {
                    lanes += SIMD8(pa[i..<i + 8]) * SIMD8(pb[i..<i + 8])
                    i += 8
                }
                while i < n {
                    lanes[0] += pa[i] * pb[i]
                    i += 1
                }
            }
        }
        return lanes.sum()
    }

    /// `e^(x_i − max x) / Σ_j e^(x_j − max x)`.
    static func softmax(_ x: [Float]) -> [Float] {
        let mx = x.max() ?? 0
        let e = x.map { Float.exp($0 - mx) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// `log(1 + e^x)`, computed without overflow.
    static func softplus(_ x: Float) -> Float { x > 20 ? x : Float.log(1 + Float.exp(x)) }

    /// `1 / (1 + e^(−x))`, the derivative of ``softplus(_:)``.
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + Float.exp(-x)) }

    /// `g / h` element-wise, zero where `h` is below the log floor (where its log was clamped).
    static func dividing(_ g: Matrix, by h: Matrix) -> Matrix {
        var out = g
        for i in out.values.indices { out.values[i] = h.values[i] > logFloor ? out.values[i] / h.values[i] : 0 }
        return out
    }

    /// `Σ_m w_m h_m` over the present modalities (`w` indexed like `h`), with a vectorised axpy.
    static func weightedSum(_ h: [Matrix?], _ w: [Float], rows: Int, width: Int) -> Matrix {
        var f = [Float](repeating: 0, count: rows * width)
        for (m, x) in h.enumerated() {
            guard let x else { continue }
            x.values.withUnsafeBufferPointer { x in
                f.withUnsafeMutableBufferPointer { Matrix.axpy(w[m], x.baseAddress!, $0.baseAddress!, x.count) }
            }
        }
        return Matrix(rows: rows, columns: width, values: f)
    }
}

/// The element-wise maximum (or minimum) of the present branch outputs, with the modality each
/// element came from, and the backward pass that routes each gradient element to that modality.
struct ElementwisePick {
    /// For each element, the index of the modality it was taken from.
    var chosen: [Int]

    /// `f_i = max_{m∈P} h_mi` (or min); on ties the first modality wins.
    static func forward(_ h: [Matrix?], largest: Bool) -> (Matrix, ElementwisePick) {
        let present = h.indices.filter { h[$0] != nil }
        var f = h[present[0]]!
        var chosen = [Int](repeating: present[0], count: f.values.count)
        for m in present.dropFirst() {
            let x = h[m]!
            for i in f.values.indices where largest ? x.values[i] > f.values[i] : x.values[i] < f.values[i] {
                f.values[i] = x.values[i]
                chosen[i] = m
            }
        }
        return (f, ElementwisePick(chosen: chosen))
    }

    /// `∂h_mi = g_i` where modality m was chosen for element i, else 0.
    func backward(_ g: Matrix, modalities: Int) -> [Matrix] {
        (0..<modalities).map { m in
            var out = g
            for i in out.values.indices where chosen[i] != m { out.values[i] = 0 }
            return out
        }
    }
}
