import RealModule
import TensorCore

/// What the operator's forward pass keeps for its backward pass.
struct OperatorCache {
    /// Branch outputs, `nil` for a modality absent at inference.
    var inputs: [Matrix?]
    /// Normalised weights: 1×M (weighted-average), M×C (class-weighted), B×M (gated).
    var weights: Matrix?
    /// `log h_m` (clamped) for the log-space operators.
    var logs: [Matrix?] = []
    /// For max/min: the modality chosen for each element.
    var chosen: [Int] = []
    /// For gated: the gate's input features `U` (B×2M).
    var gateInputs: Matrix?
    /// For stacking: the concatenated log-probabilities `u` (B×MC).
    var stacked: Matrix?
}

extension FusionSpec {
    /// Combines the branch outputs `h_m` (B×W each; `nil` when absent) into one B×W' matrix.
    ///
    /// | method | output |
    /// |---|---|
    /// | mean / sum | `Σ h_m / |P|`, `Σ h_m · M/|P|` over present modalities P |
    /// | max / min | element-wise over P |
    /// | vote | `(votes_k + mean_k) / (|P| + 1)`: majority, ties broken by mean probability |
    /// | product | logits `Σ log h_m` (the normalised product) |
    /// | weighted-average | `Σ w_m h_m`, `w = softmax(a_P)` |
    /// | class-weighted-average | `f_k = Σ W_mk h_mk`, `W_·k = softmax_m(A_·k)` over P (normalised by the loss) |
    /// | log-linear | logits `s · Σ softplus(a_m) log h_m + b`, `s` rescales the weights to their full sum when some are absent |
    /// | stacking | logits `[log h_1 … log h_M]·K + b` (an absent modality contributes `log 1/C`) |
    /// | gated | `Σ w_bm h_m`, `w_b = softmax(U_b·G + c)`, `U_b = [max_k h_mk, H(h_m)/log C]_m` |
    /// | concat / concat-mlp | `[h_1 … h_M]` (an absent modality is the uniform vector) |
    func fuse(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, OperatorCache) {
        let present = h.indices.filter { h[$0] != nil }
        let any = h[present[0]]!
        let (rows, width) = (any.rows, any.columns)
        var cache = OperatorCache(inputs: h)
        switch method {
        case .mean, .sum:
            var f = Matrix(rows: rows, columns: width)
            let scale: Float = method == .mean ? 1 / Float(present.count) : Float(h.count) / Float(present.count)
            for m in present { f = f + h[m]! * scale }
            return (f, cache)
        case .max, .min:
            var f = h[present[0]]!
            cache.chosen = [Int](repeating: present[0], count: f.values.count)
            for m in present.dropFirst() {
                let x = h[m]!
                for i in f.values.indices where method == .max ? x.values[i] > f.values[i] : x.values[i] < f.values[i] {
                    f.values[i] = x.values[i]
                    cache.chosen[i] = m
                }
            }
            return (f, cache)
        case .vote:
            var f = Matrix(rows: rows, columns: width)
            for m in present {
                let x = h[m]!
                for (i, k) in x.argmaxRows().enumerated() { f[i, k] += 1 }
                f = f + x * (1 / Float(present.count))
            }
            return (f * (1 / Float(present.count + 1)), cache)
        case .product:
            cache.logs = h.map { $0.map(clampedLog) }
            var z = Matrix(rows: rows, columns: width)
            for m in present { z = z + cache.logs[m]! }
            return (z, cache)
        case .weightedAverage:
            let a = parameters["fusion.weights"]!.values
            let w = Self.softmax(present.map { a[$0] })
            var weights = Matrix(rows: 1, columns: h.count)
            var f = [Float](repeating: 0, count: rows * width)
            for (j, m) in present.enumerated() {
                weights.values[m] = w[j]
                h[m]!.values.withUnsafeBufferPointer { x in
                    f.withUnsafeMutableBufferPointer { Matrix.axpy(w[j], x.baseAddress!, $0.baseAddress!, x.count) }
                }
            }
            cache.weights = weights
            return (Matrix(rows: rows, columns: width, values: f), cache)
        case .classWeightedAverage:
            let a = parameters["fusion.weights"]!
            var weights = Matrix(rows: h.count, columns: width)
            for k in 0..<width {
                let w = Self.softmax(present.map { a[$0, k] })
                for (j, m) in present.enumerated() { weights[m, k] = w[j] }
            }
            var f = Matrix(rows: rows, columns: width)
            for m in present {
                let x = h[m]!
                for i in 0..<rows { for k in 0..<width { f.values[i * width + k] += weights[m, k] * x.values[i * width + k] } }
            }
            cache.weights = weights
            return (f, cache)
        case .logLinear:
            let a = parameters["fusion.weights"]!.values
            let w = a.map(Self.softplus)
            let scale = w.reduce(0, +) / present.map { w[$0] }.reduce(0, +)
            cache.logs = h.map { $0.map(clampedLog) }
            var z = Matrix(rows: rows, columns: width)
            for m in present { z = z + cache.logs[m]! * (w[m] * scale) }
            z.addRowVector(parameters["fusion.bias"]!.values)
            return (z, cache)
        case .stacking:
            cache.logs = h.map { $0.map(clampedLog) }
            let uniform = Float.log(1 / Float(width))
            var u = Matrix(rows: rows, columns: h.count * width)
            for m in h.indices {
                for i in 0..<rows {
                    for k in 0..<width { u[i, m * width + k] = cache.logs[m]?[i, k] ?? uniform }
                }
            }
            var z = Matrix.multiply(u, parameters["fusion.kernel"]!)
            z.addRowVector(parameters["fusion.bias"]!.values)
            cache.stacked = u
            return (z, cache)
        case .gated:
            let count = h.count
            let logC = Float.log(Float(width))
            var u = Matrix(rows: rows, columns: 2 * count)
            for m in present {
                let x = h[m]!
                for i in 0..<rows {
                    var mx: Float = 0
                    var entropy: Float = 0
                    for k in 0..<width {
                        let p = x[i, k]
                        mx = Swift.max(mx, p)
                        entropy -= p * Float.log(Swift.max(p, logFloor))
                    }
                    u[i, m] = mx
                    u[i, count + m] = entropy / logC
                }
            }
            var s = Matrix.multiply(u, parameters["fusion.gate.kernel"]!)
            s.addRowVector(parameters["fusion.gate.bias"]!.values)
            var weights = Matrix(rows: rows, columns: count)
            var f = Matrix(rows: rows, columns: width)
            for i in 0..<rows {
                let w = Self.softmax(present.map { s[i, $0] })
                for (j, m) in present.enumerated() {
                    weights[i, m] = w[j]
                    let x = h[m]!
                    for k in 0..<width { f.values[i * width + k] += w[j] * x.values[i * width + k] }
                }
            }
            cache.weights = weights
            cache.gateInputs = u
            return (f, cache)
        case .concat, .concatMLP:
            let widths = modalities.map(branchWidth)
            let total = widths.reduce(0, +)
            var f = [Float](repeating: 0, count: rows * total)
            var offset = 0
            f.withUnsafeMutableBufferPointer { out in
                for (m, w) in widths.enumerated() {
                    if let x = h[m] {
                        x.values.withUnsafeBufferPointer { src in
                            for i in 0..<rows {
                                let (dst, row) = (out.baseAddress! + i * total + offset, src.baseAddress! + i * w)
                                for k in 0..<w { dst[k] = row[k] }
                            }
                        }
                    } else {
                        for i in 0..<rows { for k in 0..<w { out[i * total + offset + k] = 1 / Float(w) } }
                    }
                    offset += w
                }
            }
            return (Matrix(rows: rows, columns: total, values: f), cache)
        }
    }

    /// Back-propagates `g = ∂L/∂f` through the operator: adds the operator's parameter
    /// gradients and returns `∂L/∂h_m` for each modality. Training always has every modality.
    ///
    /// - weighted-average: `∂h_m = w_m G`; with `s_m = Σ G ⊙ h_m`, `∂a_j = w_j (s_j − Σ_m w_m s_m)`.
    /// - class-weighted: `∂h_mk = W_mk G_k`; with `S_mk = Σ_b G_bk h_bmk`, `∂A_jk = W_jk (S_jk − Σ_m W_mk S_mk)`.
    /// - product: `∂h_m = G / h_m`.  log-linear: `∂h_m = w_m G / h_m`, `∂a_m = σ(a_m) Σ G ⊙ log h_m`, `∂b = Σ_rows G`.
    /// - stacking: `∂K = uᵀG`, `∂b = Σ_rows G`, `∂u = G·Kᵀ`, `∂h_m = ∂u_m / h_m`.
    /// - gated: with `σ_bm = Σ_k G_bk h_bmk`, `∂s_bj = w_bj (σ_bj − Σ_m w_bm σ_bm)`, `∂G = Uᵀ·∂s`,
    ///   `∂c = Σ_rows ∂s`, `∂U = ∂s·Gᵀ`, and `∂h_m = w_m G + ∂U_max·[k = argmax] − ∂U_H (log h + 1)/log C`.
    /// - vote: only the mean term carries a gradient (votes are piecewise constant): `G / (M(M+1))`.
    /// Where a log was clamped (`h < 1e-30`) its gradient is zero.
    func fuseBackward(
        _ cache: OperatorCache, _ g: Matrix, parameters: [String: Matrix], gradients: inout [String: Matrix], needInputGradients: Bool = true
    ) -> [Matrix] {
        if !needInputGradients && !method.hasOperatorParameters { return [] }
        let h = cache.inputs.map { $0! }
        let count = h.count
        let (rows, width) = (h[0].rows, h[0].columns)
        func overH(_ gm: Matrix, _ x: Matrix) -> Matrix {
            var out = gm
            for i in out.values.indices { out.values[i] = x.values[i] > logFloor ? out.values[i] / x.values[i] : 0 }
            return out
        }
        switch method {
        case .mean: return h.map { _ in g * (1 / Float(count)) }
        case .sum: return h.map { _ in g }
        case .max, .min:
            return h.indices.map { m in
                var out = g
                for i in out.values.indices where cache.chosen[i] != m { out.values[i] = 0 }
                return out
            }
        case .vote: return h.map { _ in g * (1 / Float(count * (count + 1))) }
        case .product: return h.map { overH(g, $0) }
        case .weightedAverage:
            let w = cache.weights!.values
            let s = h.map { x in Self.dot(g.values, x.values) }
            let mean = zip(w, s).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            accumulate(&gradients, "fusion.weights", Matrix(rows: 1, columns: count, values: (0..<count).map { w[$0] * (s[$0] - mean) }))
            return needInputGradients ? w.map { g * $0 } : []
        case .classWeightedAverage:
            let w = cache.weights!
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
        case .logLinear:
            let a = parameters["fusion.weights"]!.values
            let logs = cache.logs.map { $0! }
            let da = (0..<count).map { m in Self.sigmoid(a[m]) * zip(g.values, logs[m].values).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
            accumulate(&gradients, "fusion.weights", Matrix(rows: 1, columns: count, values: da))
            accumulate(&gradients, "fusion.bias", Matrix(rows: 1, columns: width, values: g.columnSums()))
            return (0..<count).map { overH(g * Self.softplus(a[$0]), h[$0]) }
        case .stacking:
            let kernel = parameters["fusion.kernel"]!
            accumulate(&gradients, "fusion.kernel", Matrix.multiply(cache.stacked!, transposingA: true, g))
            accumulate(&gradients, "fusion.bias", Matrix(rows: 1, columns: width, values: g.columnSums()))
            let du = Matrix.multiply(g, kernel, transposingB: true)
            return (0..<count).map { m in
                var block = Matrix(rows: rows, columns: width)
                for i in 0..<rows { for k in 0..<width { block[i, k] = du[i, m * width + k] } }
                return overH(block, h[m])
            }
        case .gated:
            let w = cache.weights!
            let u = cache.gateInputs!
            let gate = parameters["fusion.gate.kernel"]!
            var ds = Matrix(rows: rows, columns: count)
            for i in 0..<rows {
                var sigma = [Float](repeating: 0, count: count)
                for m in 0..<count { for k in 0..<width { sigma[m] += g[i, k] * h[m][i, k] } }
                var mean: Float = 0
                for m in 0..<count { mean += w[i, m] * sigma[m] }
                for j in 0..<count { ds[i, j] = w[i, j] * (sigma[j] - mean) }
            }
            accumulate(&gradients, "fusion.gate.kernel", Matrix.multiply(u, transposingA: true, ds))
            accumulate(&gradients, "fusion.gate.bias", Matrix(rows: 1, columns: count, values: ds.columnSums()))
            let du = Matrix.multiply(ds, gate, transposingB: true)
            let logC = Float.log(Float(width))
            return (0..<count).map { m in
                var d = Matrix(rows: rows, columns: width)
                let x = h[m]
                for i in 0..<rows {
                    var best = 0
                    for k in 1..<width where x[i, k] > x[i, best] { best = k }
                    for k in 0..<width {
                        let p = x[i, k]
                        let dEntropy = p > logFloor ? -(Float.log(p) + 1) / logC : -Float.log(logFloor) / logC
                        d[i, k] = w[i, m] * g[i, k] + du[i, count + m] * dEntropy + (k == best ? du[i, m] : 0)
                    }
                }
                return d
            }
        case .concat, .concatMLP:
            let widths = modalities.map(branchWidth)
            let total = widths.reduce(0, +)
            var offset = 0
            return widths.map { w in
                var d = Matrix(rows: rows, columns: w)
                for i in 0..<rows { for k in 0..<w { d.values[i * w + k] = g.values[i * total + offset + k] } }
                offset += w
                return d
            }
        }
    }

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

    static func softmax(_ x: [Float]) -> [Float] {
        let mx = x.max() ?? 0
        let e = x.map { Float.exp($0 - mx) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// `log(1 + e^x)`, computed without overflow.
    static func softplus(_ x: Float) -> Float { x > 20 ? x : Float.log(1 + Float.exp(x)) }

    static func sigmoid(_ x: Float) -> Float { 1 / (1 + Float.exp(-x)) }
}
