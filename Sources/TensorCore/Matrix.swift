/// A dense row-major Float32 matrix: the working type of every fusion kernel.
///
/// Element `(i, j)` is `values[i * columns + j]`.
public struct Matrix: Sendable, Hashable {
    /// The number of rows (samples, in the fusion kernels).
    public let rows: Int
    /// The number of columns (classes or features).
    public let columns: Int
    /// The elements, row-major: `values.count == rows × columns`.
    public var values: [Float]

    /// Creates a matrix from row-major values; `values.count` must be `rows × columns`.
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(
            rows >= 0 && columns >= 0 && values.count == rows * columns,
            "\(values.count) values for \(rows) × \(columns)"
        )
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

    /// Element `(row, column)`. `@inlinable`: operators in other modules call it in inner loops.
    @inlinable
    public subscript(row: Int, column: Int) -> Float {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// Row `i` as an array.
    public func row(_ i: Int) -> [Float] { Array(values[i * columns..<(i + 1) * columns]) }

    /// The rows at `indices`, in that order (a batch gather).
    ///
    /// `@inlinable` so callers in other modules get a specialised copy: unspecialised, every
    /// index would go through the collection's witness table.
    @inlinable
    public func gatherRows(_ indices: some Collection<Int>) -> Matrix {
        let n = columns
        let out = [Float](unsafeUninitializedCapacity: indices.count * n) { buffer, initialized in
            values.withUnsafeBufferPointer { src in
                var dst = buffer.baseAddress!
                for i in indices {
                    precondition(i >= 0 && i < rows, "row \(i) out of range")
                    // An element loop: for rows of a few floats a memmove call costs more than the copy.
                    let row = src.baseAddress! + i * n
                    for j in 0..<n { (dst + j).initialize(to: row[j]) }
                    dst += n
                }
            }
            initialized = indices.count * n
        }
        return Matrix(rows: indices.count, columns: n, values: out)
    }

    /// True when every element is finite (no NaN, no ±∞).
    public var isFinite: Bool { values.allSatisfy(\.isFinite) }
}
