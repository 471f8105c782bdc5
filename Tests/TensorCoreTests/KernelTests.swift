import FuseboxTestSupport
import RealModule
import Testing

@testable import TensorCore

struct KernelTests {
    func randomMatrix(_ rows: Int, _ columns: Int, _ rng: inout TestRandom) -> Matrix {
        Matrix(
            rows: rows,
            columns: columns,
            values: (0..<rows * columns).map { _ in Float.random(in: -2...2, using: &rng) }
        )
    }

    func naiveProduct(_ a: Matrix, _ b: Matrix) -> Matrix {
        var c = Matrix(rows: a.rows, columns: b.columns)
        for i in 0..<a.rows {
            for j in 0..<b.columns {
                var s = 0.0
                for p in 0..<a.columns { s += Double(a[i, p]) * Double(b[p, j]) }
                c[i, j] = Float(s)
            }
        }
        return c
    }

    func expectClose(_ x: Matrix, _ y: Matrix, tolerance: Float = 1e-4) {
        #expect(x.rows == y.rows && x.columns == y.columns)
        for (u, v) in zip(x.values, y.values) { #expect(u.isApproximatelyEqual(to: v, absoluteTolerance: tolerance)) }
    }

    @Test(arguments: [(1, 1, 1), (3, 5, 2), (17, 33, 9), (64, 20, 128)])
    func multiplyMatchesNaiveForEveryTransposition(m: Int, k: Int, n: Int) {
        // Given random operands
        var rng = TestRandom(seed: UInt64(m * 1000 + k * 10 + n))
        let a = randomMatrix(m, k, &rng)
        let b = randomMatrix(k, n, &rng)
        let expected = naiveProduct(a, b)
        // Then all four transposition paths give the naive product
        expectClose(Matrix.multiply(a, b), expected)
        expectClose(Matrix.multiply(a.transposed(), transposingA: true, b), expected)
        expectClose(Matrix.multiply(a, b.transposed(), transposingB: true), expected)
        expectClose(Matrix.multiply(a.transposed(), transposingA: true, b.transposed(), transposingB: true), expected)
    }

    @Test func softmaxIsStableForHugeLogits() {
        let m = Matrix([[1000, 0, -1000], [1, 2, 3]])
        let s = m.softmaxRows()
        #expect(s.values[0] == 1 && s.values[1] == 0 && s.values[2] == 0)
        let e = [Float.exp(1), Float.exp(2), Float.exp(3)]
        let z = e.reduce(0, +)
        for j in 0..<3 { #expect(s[1, j].isApproximatelyEqual(to: e[j] / z, relativeTolerance: 1e-6)) }
        for sum in s.rowSums() { #expect(sum.isApproximatelyEqual(to: 1, absoluteTolerance: 1e-6)) }
    }

    @Test func logSoftmaxMatchesLogOfSoftmaxAndStaysFinite() {
        var rng = TestRandom(seed: 7)
        let m = randomMatrix(10, 6, &rng)
        let l = m.logSoftmaxRows()
        let s = m.softmaxRows()
        for i in 0..<m.values.count {
            #expect(l.values[i].isApproximatelyEqual(to: Float.log(s.values[i]), absoluteTolerance: 1e-5))
        }
        let extreme = Matrix([[1000, 0, -1000]]).logSoftmaxRows()
        #expect(extreme.values == [0, -1000, -2000])
    }

    @Test func reductionsAndArgmax() {
        let m = Matrix([[1, 5, 5], [-1, -2, -3], [0, 0, 1]])
        #expect(m.rowSums() == [11, -6, 1])
        #expect(m.columnSums() == [0, 3, 3])
        #expect(m.rowMaxima() == [5, -1, 1])
        #expect(m.argmaxRows() == [1, 0, 2])  // first index on ties
        var b = m
        b.addRowVector([1, 2, 3])
        #expect(b.row(0) == [2, 7, 8])
    }

    @Test func gatherRowsPicksRowsInOrder() {
        let m = Matrix([[1, 2], [3, 4], [5, 6]])
        #expect(m.gatherRows([2, 0]).values == [5, 6, 1, 2])
    }
}
