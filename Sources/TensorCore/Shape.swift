/// The dimensions of a tensor, outermost first (row-major, "C order").
public struct Shape: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByArrayLiteral {
    /// The extent of each axis; empty for a scalar.
    public let dimensions: [Int]

    /// Creates a shape. Dimensions must be non-negative (checked by ``Shape/validated(_:)`` for input).
    public init(_ dimensions: [Int]) {
        precondition(dimensions.allSatisfy { $0 >= 0 }, "negative dimension in \(dimensions)")
        self.dimensions = dimensions
    }

    /// Creates a shape from a literal such as `[2, 3]`.
    public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// Validates dimensions that come from input: each non-negative and their product representable.
    public static func validated(_ dimensions: [Int]) throws(TensorError) -> Shape {
        var count = 1
        for d in dimensions {
            guard d >= 0 else { throw TensorError(.invalidShape, "dimension \(d) is negative in \(dimensions)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw TensorError(.invalidShape, "shape \(dimensions) has too many elements") }
            count = product
        }
        return Shape(dimensions)
    }

    /// The number of axes.
    public var rank: Int { dimensions.count }

    /// The number of elements: the product of the dimensions (1 for a scalar).
    public var elementCount: Int { dimensions.reduce(1, *) }

    /// The extent of axis `axis` (0 is the outermost).
    public subscript(axis: Int) -> Int { dimensions[axis] }

    /// The dimensions in brackets, as in `[2, 3]`.
    public var description: String { "[" + dimensions.map(String.init).joined(separator: ", ") + "]" }

    /// Decodes a JSON array of dimensions, validated as ``Shape/validated(_:)`` does.
    public init(from decoder: any Decoder) throws {
        let dims = try [Int](from: decoder)
        do { self = try Shape.validated(dims) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    /// Encodes the dimensions as a JSON array.
    public func encode(to encoder: any Encoder) throws { try dimensions.encode(to: encoder) }
}
