import RealModule

extension Matrix {
    /// The product `op(a) · op(b)`, where `op(x)` is `x` or its transpose.
    ///
    /// Loops are ordered so the innermost one runs over contiguous memory (the compiler
    /// vectorises it): `a · b` and `aᵀ · b` accumulate rows of `b` (axpy form), `a · bᵀ` takes
    /// dot products of rows.
    public static func multiply(_ a: Matrix, transposingA: Bool = false, _ b: Matrix, transposingB: Bool = false) -> Matrix {
        let m = transposingA ? a.columns : a.rows
        let k = transposingA ? a.rows : a.columns
        let kb = transposingB ? b.columns : b.rows
        let n = transposingB ? b.rows : b.columns
        precondition(k == kb, "inner dimensions \(k) and \(kb) differ")
        var c = [Float](repeating: 0, count: m * n)
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    switch (transposingA, transposingB) {
                    case (false, false):
                        for i in 0..<m {
                            let ci = pc.baseAddress! + i * n
                            for p in 0..<k {
                                let aip = pa[i * k + p]
                                if aip == 0 { continue }
                                let bp = pb.baseAddress! + p * n
                                for j in 0..<n { ci[j] += aip * bp[j] }
                            }
                        }
                    case (true, false):
                        // a is k × m; c[i, :] += a[p, i] · b[p, :]
                        for p in 0..<k {
                            let bp = pb.baseAddress! + p * n
                            for i in 0..<m {
                                let api = pa[p * m + i]
                                if api == 0 { continue }
                                let ci = pc.baseAddress! + i * n
                                for j in 0..<n { ci[j] += api * bp[j] }
                            }
                        }
                    case (false, true):
                        // b is n × k; c[i, j] = a[i, :] · b[j, :]
                        for i in 0..<m {
                            let ai = pa.baseAddress! + i * k
                            for j in 0..<n {
                                let bj = pb.baseAddress! + j * k
                                var s: Float = 0
                                for p in 0..<k { s += ai[p] * bj[p] }
                                pc[i * n + j] = s
                            }
                        }
                    case (true, true):
                        // a is k × m, b is n × k; c[i, j] = Σ_p a[p, i] b[j, p]
                        for i in 0..<m {
                            for j in 0..<n {
                                var s: Float = 0
                                for p in 0..<k { s += pa[p * m + i] * pb[j * k + p] }
                                pc[i * n + j] = s
                            }
                        }
                    }
                }
            }
        }
        return Matrix(rows: m, columns: n, values: c)
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
