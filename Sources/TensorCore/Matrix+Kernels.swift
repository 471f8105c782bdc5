import Dispatch
import RealModule
import TensorKernels

extension Matrix {
    /// The product `op(a) · op(b)`, where `op(x)` is `x` or its transpose.
    ///
    /// Each output element is the sum over the inner index `p = 0, 1, …` in that order, as the
    /// naive loop takes it; the kernels differ only in how many elements they compute at once:
    ///
    /// - on a CPU with AVX2 and FMA (detected at run time, ``Matrix/kernel``), a C kernel keeps a
    ///   4-row × 16-column tile of the output in registers and adds each term with one fused
    ///   multiply-add; the last columns of a row are one masked tile, so narrow outputs such as 10
    ///   classes stay vectorised;
    /// - elsewhere, a portable kernel keeps a 4-row × 8-column tile in SIMD registers and
    ///   multiplies then adds (the last tile of a row overlapping the one before).
    ///
    /// A transposed `b` is transposed explicitly first (in fusion `b` is a parameter, so the copy
    /// is small); a transposed `a` is read in place. On this project's machine the C kernel runs
    /// the concat-MLP head's shapes at 30–80 GFLOP/s on one core, 1.3–2.5× OpenBLAS's `sgemm`
    /// (`scripts/kernel-bench/run.sh`).
    ///
    /// Products of at least ``Matrix/parallelWork`` multiply-adds are split by output rows across
    /// the available cores. Every element is still computed by one thread in the same order, so
    /// the result is bit-identical whatever the number of cores.
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
                    let operands = Operands(
                        n: n,
                        k: k,
                        a: baseA,
                        rowStep: rowStep,
                        strideA: strideA,
                        b: baseB,
                        c: baseC
                    )
                    let work = m * n * k
                    let parts = work < parallelWork ? 1 : Swift.min(processorCount, (m + 3) / 4)
                    if parts <= 1 {
                        operands.rows(0..<m)
                    } else {
                        // Row blocks that are multiples of 4, so the tiling is the one a single
                        // thread would use.
                        let block = ((m + parts - 1) / parts + 3) / 4 * 4
                        DispatchQueue.concurrentPerform(iterations: (m + block - 1) / block) { part in
                            operands.rows(part * block..<Swift.min(m, (part + 1) * block))
                        }
                    }
                }
            }
        }
        return Matrix(rows: m, columns: n, values: c)
    }

    /// `y[0..<n] += alpha · x[0..<n]`, eight lanes at a time (`x` and `y` must not overlap). With
    /// `alpha` = 1 the product is exact, so this is also the plain sum `y += x`.
    @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var j = 0
        while j + 8 <= n {
            let sum =
                UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
                + alpha * UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + j).storeBytes(of: sum, as: SIMD8<Float>.self)
            j += 8
        }
        while j < n {
            y[j] += alpha * x[j]
            j += 1
        }
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
                guard let row0 = v.baseAddress, let bias = b.baseAddress else { return }
                for i in 0..<rows { Self.axpy(1, bias, row0 + i * n, n) }
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

    /// The sum of each column (length `columns`): the gradient of a bias. Rows are added in
    /// order, `((r₀ + r₁) + r₂) + …`.
    public func columnSums() -> [Float] {
        var out = [Float](repeating: 0, count: columns)
        let n = columns
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                guard let row0 = v.baseAddress, let sums = o.baseAddress else { return }
                for i in 0..<rows { Self.axpy(1, row0 + i * n, sums, n) }
            }
        }
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
        out.values.withUnsafeMutableBufferPointer { o in
            rhs.values.withUnsafeBufferPointer { r in
                guard let y = o.baseAddress, let x = r.baseAddress else { return }
                axpy(1, x, y, o.count)
            }
        }
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
