import RealModule

extension Matrix {
    /// The product `op(a) · op(b)`, where `op(x)` is `x` or its transpose.
    ///
    /// The kernel keeps a 4-row × 8-column tile of the output in SIMD registers while it runs over
    /// the whole inner dimension, so each load of `b` serves four rows and each output element is
    /// stored once. Lanes are independent columns and every sum is taken in the order
    /// `p = 0, 1, …`, exactly as the naive loop. When the width is not a multiple of 8 the last
    /// tile overlaps the previous one (recomputing identical values), so narrow outputs such as
    /// 10 classes stay vectorised. A transposed `b` is transposed explicitly first (in fusion `b`
    /// is a parameter, so the copy is small).
    public static func multiply(
        _ a: Matrix,
        transposingA: Bool = false,
        _ b: Matrix,
        transposingB: Bool = false
    ) -> Matrix {
        let m = transposingA ? a.columns : a.rows
        let k = transposingA ? a.rows : a.columns
        let right = transposingB ? b.transposed() : b
        precondition(k == right.rows, "inner dimensions \(k) and \(right.rows) differ")
        let n = right.columns
        // Element (i, p) of op(a) is at i·rowStep + p·strideA.
        let (rowStep, strideA) = transposingA ? (1, m) : (k, 1)
        var c = [Float](repeating: 0, count: m * n)
        a.values.withUnsafeBufferPointer { pa in
            right.values.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    guard let baseA = pa.baseAddress, let baseB = pb.baseAddress, let baseC = pc.baseAddress else {
                        return
                    }
                    if n < 8 {
                        for i in 0..<m {
                            for j in 0..<n {
                                var acc: Float = 0
                                for p in 0..<k { acc += baseA[i * rowStep + p * strideA] * baseB[p * n + j] }
                                baseC[i * n + j] = acc
                            }
                        }
                        return
                    }
                    let tiles = Array(stride(from: 0, to: n - 7, by: 8)) + (n % 8 == 0 ? [] : [n - 8])
                    var i = 0
                    while i + 4 <= m {
                        let a0 = baseA + i * rowStep
                        for j in tiles {
                            var (c0, c1, c2, c3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                            var bp = UnsafeRawPointer(baseB + j)
                            var ap = a0
                            for _ in 0..<k {
                                let bv = bp.loadUnaligned(as: SIMD8<Float>.self)
                                c0 += ap[0] * bv
                                c1 += ap[rowStep] * bv
                                c2 += ap[2 * rowStep] * bv
                                c3 += ap[3 * rowStep] * bv
                                bp += n * MemoryLayout<Float>.stride
                                ap += strideA
                            }
                            let ci = UnsafeMutableRawPointer(baseC + i * n + j)
                            let rowBytes = n * MemoryLayout<Float>.stride
                            ci.storeBytes(of: c0, as: SIMD8<Float>.self)
                            (ci + rowBytes).storeBytes(of: c1, as: SIMD8<Float>.self)
                            (ci + 2 * rowBytes).storeBytes(of: c2, as: SIMD8<Float>.self)
                            (ci + 3 * rowBytes).storeBytes(of: c3, as: SIMD8<Float>.self)
                        }
                        i += 4
                    }
                    while i < m {
                        for j in tiles {
                            var acc = SIMD8<Float>()
                            var bp = UnsafeRawPointer(baseB + j)
                            for p in 0..<k {
                                acc += baseA[i * rowStep + p * strideA] * bp.loadUnaligned(as: SIMD8<Float>.self)
                                bp += n * MemoryLayout<Float>.stride
                            }
                            UnsafeMutableRawPointer(baseC + i * n + j).storeBytes(of: acc, as: SIMD8<Float>.self)
                        }
                        i += 1
                    }
                }
            }
        }
        return Matrix(rows: m, columns: n, values: c)
    }

    /// `y[0..<n] += alpha · x[0..<n]`.
    @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for j in 0..<n { y[j] += alpha * x[j] }
    }

    /// The transpose.
    public func transposed() -> Matrix {
        var out = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<rows { for j in 0..<columns { dst[j * rows + i] = src[i * columns + j] } }
            }
        }
        return Matrix(rows: columns, columns: rows, values: out)
    }

    /// Adds `bias[j]` to every element of column `j`.
    public mutating func addRowVector(_ bias: [Float]) {
        precondition(bias.count == columns, "bias of \(bias.count) for \(columns) columns")
        let n = columns
        values.withUnsafeMutableBufferPointer { v in
            bias.withUnsafeBufferPointer { b in
                for i in 0..<rows { for j in 0..<n { v[i * n + j] += b[j] } }
            }
        }
    }

    /// Row-wise softmax, `exp(x_ij − max_j x_ij) / Σ_j exp(x_ij − max_j x_ij)`.
    ///
    /// Max-subtracted, so large logits never overflow: `softmax([1000, 0, -1000]) = [1, 0, 0]`.
    /// Each row sums to 1 up to rounding. A row holding NaN gives NaN.
    public func softmaxRows() -> Matrix {
        var out = self
        let n = columns
        out.values.withUnsafeMutableBufferPointer { v in
            for i in 0..<rows {
                let r = v.baseAddress! + i * n
                var mx = -Float.infinity
                for j in 0..<n { mx = Swift.max(mx, r[j]) }
                var s: Float = 0
                for j in 0..<n {
                    let e = Float.exp(r[j] - mx)
                    r[j] = e
                    s += e
                }
                let inv = 1 / s
                for j in 0..<n { r[j] *= inv }
            }
        }
        return out
    }

    /// Row-wise log-softmax, `x_ij − max_j x − log Σ_j exp(x_ij − max_j x)`, stable for any finite input.
    public func logSoftmaxRows() -> Matrix {
        var out = self
        let n = columns
        out.values.withUnsafeMutableBufferPointer { v in
            for i in 0..<rows {
                let r = v.baseAddress! + i * n
                var mx = -Float.infinity
                for j in 0..<n { mx = Swift.max(mx, r[j]) }
                var s: Float = 0
                for j in 0..<n { s += Float.exp(r[j] - mx) }
                let shift = mx + Float.log(s)
                for j in 0..<n { r[j] -= shift }
            }
        }
        return out
    }

    /// The sum of each row (length `rows`).
    public func rowSums() -> [Float] {
        (0..<rows).map { i in values[i * columns..<(i + 1) * columns].reduce(0, +) }
    }

    /// The sum of each column (length `columns`): the gradient of a bias.
    public func columnSums() -> [Float] {
        var out = [Float](repeating: 0, count: columns)
        for i in 0..<rows { for j in 0..<columns { out[j] += values[i * columns + j] } }
        return out
    }

    /// The largest element of each row (−∞ for an empty row).
    public func rowMaxima() -> [Float] {
        (0..<rows).map { i in values[i * columns..<(i + 1) * columns].max() ?? -.infinity }
    }

    /// The column of the largest element of each row; the first one on ties, NaN ignored.
    public func argmaxRows() -> [Int] {
        (0..<rows).map { i in
            var best = 0
            var bestValue = -Float.infinity
            for j in 0..<columns {
                let x = values[i * columns + j]
                if x > bestValue {
                    bestValue = x
                    best = j
                }
            }
            return best
        }
    }

    /// Element-wise `self + other`.
    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix {
        precondition(lhs.rows == rhs.rows && lhs.columns == rhs.columns, "shape mismatch")
        var out = lhs
        for i in 0..<out.values.count { out.values[i] += rhs.values[i] }
        return out
    }

    /// Every element multiplied by `scalar`.
    public static func * (lhs: Matrix, rhs: Float) -> Matrix {
        var out = lhs
        for i in 0..<out.values.count { out.values[i] *= rhs }
        return out
    }

    /// Applies `transform` to every element.
    public func map(_ transform: (Float) -> Float) -> Matrix {
        Matrix(rows: rows, columns: columns, values: values.map(transform))
    }
}
