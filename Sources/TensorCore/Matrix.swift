/// A dense row-major Float32 matrix: the working type of every fusion kernel.
///
/// Element `(i, j)` is `values[i * columns + j]`.
public struct Matrix: Sendable, Hashable {
    public let rows: Int
    public let columns: Int
    public var values: [Float]

    /// Creates a matrix from row-major values; `values.count` must be `rows × columns`.
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(rows >= 0 && columns >= 0 && values.count == rows * columns, "\(values.count) values for \(rows) × \(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A matrix filled with `value`.
    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        self.init(rows: rows, columns: columns, values: [Float](repeating: value, count: rows * columns))
    }

    /// Creates a matrix from nested rows, all of the same length.
    public init(_ nested: [[Float]]) {
        let columns = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == columns }, "ragged rows")
        self.init(rows: nested.count, columns: columns, values: nested.flatMap { $0 })
    }

    public subscript(row: Int, column: Int) -> Float {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// Row `i` as an array.
    public func row(_ i: Int) -> [Float] { Array(values[i * columns..<(i + 1) * columns]) }

    /// The rows at `indices`, in that order (a batch gather).
    public func gatherRows(_ indices: some Collection<Int>) -> Matrix {
        var out = [Float]()
        out.reserveCapacity(indices.count * columns)
        values.withUnsafeBufferPointer { src in
            for i in indices { out.append(contentsOf: src[i * columns..<(i + 1) * columns]) }
        }
        return Matrix(rows: indices.count, columns: columns, values: out)
    }

    /// The transpose.
    public func transposed() -> Matrix {
        var out = Matrix(rows: columns, columns: rows)
        for i in 0..<rows { for j in 0..<columns { out.values[j * rows + i] = values[i * columns + j] } }
        return out
    }

    /// True when every element is finite (no NaN, no ±∞).
    public var isFinite: Bool { values.allSatisfy(\.isFinite) }
}
