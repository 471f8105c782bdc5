import FuseboxTestSupport
import RealModule
import TensorKernels
import Testing

@testable import TensorCore

/// The two inner kernels of `Matrix.multiply` checked one by one (the product itself uses only the
/// one this CPU was given), and the split of a large product across cores.
struct MatrixKernelTests {
    /// Shapes that reach every tile of both kernels: widths below, at and between multiples of 8
    /// and 16 (the masked or overlapping last tile), row counts not a multiple of 4 (the one-row
    /// tail).
    static let shapes = [
        (1, 1, 8), (3, 5, 2), (5, 7, 10), (7, 3, 17), (4, 20, 16), (9, 31, 24), (13, 9, 129), (6, 4, 5), (8, 2, 31),
    ]

    func operands(_ m: Int, _ k: Int, _ n: Int, seed: UInt64) -> (a: Matrix, b: Matrix, naive: Matrix) {
        var rng = TestRandom(seed: seed)
        func random(_ rows: Int, _ columns: Int) -> Matrix {
            Matrix(
                rows: rows,
                columns: columns,
                values: (0..<rows * columns).map { _ in Float.random(in: -2...2, using: &rng) }
            )
        }
        let a = random(m, k)
        let b = random(k, n)
        var naive = Matrix(rows: m, columns: n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i, p]) * Double(b[p, j]) }
                naive[i, j] = Float(s)
            }
        }
        return (a, b, naive)
    }

    /// Runs one kernel over all rows of `op(a) · b`, `op(a)` read from `a` as stored (transposed
    /// in place when `transposed`).
    func product(_ a: Matrix, transposed: Bool, _ b: Matrix, kernel: (Operands, Range<Int>) -> Void) -> Matrix {
        let m = transposed ? a.columns : a.rows
        let k = transposed ? a.rows : a.columns
        var c = [Float](repeating: .nan, count: m * b.columns)
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    let (rowStep, strideA) = transposed ? (1, m) : (k, 1)
                    let operands = Operands(
                        n: b.columns,
                        k: k,
                        a: pa.baseAddress!,
                        rowStep: rowStep,
                        strideA: strideA,
                        b: pb.baseAddress!,
                        c: pc.baseAddress!
                    )
                    kernel(operands, 0..<m)
                }
            }
        }
        return Matrix(rows: m, columns: b.columns, values: c)
    }

    func expectClose(_ x: Matrix, _ y: Matrix) {
        #expect(x.rows == y.rows && x.columns == y.columns)
        for (u, v) in zip(x.values, y.values) { #expect(u.isApproximatelyEqual(to: v, absoluteTolerance: 1e-4)) }
    }

    @Test(arguments: shapes)
    func thePortableKernelMatchesTheNaiveProduct(m: Int, k: Int, n: Int) {
        let (a, b, naive) = operands(m, k, n, seed: UInt64(m * 1000 + k * 10 + n))
        expectClose(product(a, transposed: false, b) { $0.portableRows($1) }, naive)
        expectClose(product(a.transposed(), transposed: true, b) { $0.portableRows($1) }, naive)
    }

    @Test(
        .enabled(if: tk_cpu_has_avx2_fma() != 0, "this CPU has no AVX2 and FMA: the C kernel cannot run here"),
        arguments: shapes
    )
    func theAVX2KernelMatchesTheNaiveProduct(m: Int, k: Int, n: Int) {
        let (a, b, naive) = operands(m, k, n, seed: UInt64(m * 1000 + k * 10 + n))
        func avx2(_ o: Operands, _ rows: Range<Int>) {
            tk_sgemm_rows_avx2(o.n, o.k, o.a, o.rowStep, o.strideA, o.b, o.c, rows.lowerBound, rows.upperBound)
        }
        expectClose(product(a, transposed: false, b, kernel: avx2), naive)
        expectClose(product(a.transposed(), transposed: true, b, kernel: avx2), naive)
    }

    @Test func theKernelIsChosenByTheCPU() {
        #expect(Matrix.kernel == (tk_cpu_has_avx2_fma() != 0 ? .avx2FMA : .portable))
    }

    @Test func aProductSplitAcrossCoresIsBitIdenticalToOneThread() {
        // Given a product above the split threshold, with a row count that is not a multiple of 4
        let (a, b, _) = operands(1_001, 64, 37, seed: 3)
        #expect(1_001 * 64 * 37 >= Matrix.parallelWork)
        // When it is computed by `multiply` (split when there are several cores) and by one thread
        let split = Matrix.multiply(a, b)
        let single = product(a, transposed: false, b) { $0.rows($1) }
        let splitTransposed = Matrix.multiply(a.transposed(), transposingA: true, b)
        // Then every element is the same, bit for bit
        #expect(split.values == single.values)
        #expect(splitTransposed.values == single.values)
    }

    @Test func elementWiseKernelsAddInOrder() {
        // Widths around the 8-lane step, so the SIMD body and the scalar tail are both used
        for n in [1, 7, 8, 9, 17] {
            var rng = TestRandom(seed: UInt64(n))
            let m = Matrix(rows: 5, columns: n, values: (0..<5 * n).map { _ in Float.random(in: -1...1, using: &rng) })
            let bias = (0..<n).map { Float($0) / 4 }
            var withBias = m
            withBias.addRowVector(bias)
            let sums = m.columnSums()
            let doubled = m + m
            for j in 0..<n {
                var s: Float = 0
                for i in 0..<5 {
                    s += m[i, j]
                    #expect(withBias[i, j] == m[i, j] + bias[j])
                    #expect(doubled[i, j] == m[i, j] + m[i, j])
                }
                #expect(sums[j] == s)
            }
        }
    }
}
