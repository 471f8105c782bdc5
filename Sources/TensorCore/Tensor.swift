/// An n-dimensional array: a ``DType``, a ``Shape`` and contiguous little-endian bytes.
///
/// The bytes are kept exactly as given, so a tensor read from a file and written back is
/// bit-identical. Numeric work converts to ``Matrix`` (Float32) with ``Tensor/floatMatrix()``.
///
/// ```swift
/// let t = Tensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])
/// let m = try t.floatMatrix()   // 2 × 3
/// ```
public struct Tensor: Sendable, Hashable {
    /// The element type.
    public let dtype: DType
    /// The dimensions; `shape.elementCount` elements of `dtype.byteSize` bytes each.
    public let shape: Shape
    /// Little-endian element bytes, row-major; `bytes.count == shape.elementCount * dtype.byteSize`.
    public let bytes: [UInt8]

    /// Creates a tensor from raw little-endian bytes.
    /// - Throws: ``TensorError`` with code `byteCountMismatch` when the byte count does not equal
    ///   `shape.elementCount × dtype.byteSize`.
    public init(dtype: DType, shape: Shape, bytes: [UInt8]) throws(TensorError) {
        let (expected, overflow) = shape.elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, expected == bytes.count else {
            throw TensorError(
                .byteCountMismatch,
                "\(bytes.count) bytes do not hold a \(dtype.rawValue) tensor of shape \(shape) (\(expected) bytes expected)"
            )
        }
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Creates a Float32 tensor. `floats.count` must equal `shape.elementCount`.
    public init(floats: [Float], shape: Shape) {
        precondition(floats.count == shape.elementCount, "\(floats.count) floats for shape \(shape)")
        self.dtype = .float32
        self.shape = shape
        self.bytes = floats.withUnsafeBytes { raw in
            var out = [UInt8](raw)
            Tensor.toLittleEndian(&out, elementSize: 4)
            return out
        }
    }

    /// Creates an Int32 tensor (labels, class indices).
    public init(int32s: [Int32], shape: Shape) {
        precondition(int32s.count == shape.elementCount, "\(int32s.count) values for shape \(shape)")
        self.dtype = .int32
        self.shape = shape
        self.bytes = int32s.withUnsafeBytes { raw in
            var out = [UInt8](raw)
            Tensor.toLittleEndian(&out, elementSize: 4)
            return out
        }
    }

    /// Creates a Float32 tensor holding a matrix (shape `[rows, columns]`).
    public init(_ matrix: Matrix) { self.init(floats: matrix.values, shape: [matrix.rows, matrix.columns]) }

    /// The number of elements.
    public var elementCount: Int { shape.elementCount }

    /// Calls `body` with the raw little-endian bytes, without copying.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    /// Every element converted to `Double`, exactly for all dtypes except 64-bit integers
    /// beyond 2^53, which round.
    public func doubles() -> [Double] {
        var out = [Double](repeating: 0, count: elementCount)
        bytes.withUnsafeBytes { raw in
            for i in 0..<elementCount { out[i] = Tensor.element(raw, dtype, i) }
        }
        return out
    }

    /// Every element converted to `Float` (rounded to nearest for F64 and wide integers).
    public func floats() -> [Float] {
        if dtype == .float32 {
            return bytes.withUnsafeBytes { raw in
                (0..<elementCount).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
                }
            }
        }
        var out = [Float](repeating: 0, count: elementCount)
        bytes.withUnsafeBytes { raw in
            for i in 0..<elementCount { out[i] = Float(Tensor.element(raw, dtype, i)) }
        }
        return out
    }

    /// The tensor as a Float32 matrix: rank 2 as is, rank 1 as one column, rank 0 as 1 × 1.
    /// - Throws: ``TensorError`` with code `invalidShape` for rank 3 and above.
    public func floatMatrix() throws(TensorError) -> Matrix {
        switch shape.rank {
        case 0: return Matrix(rows: 1, columns: 1, values: floats())
        case 1: return Matrix(rows: shape[0], columns: 1, values: floats())
        case 2: return Matrix(rows: shape[0], columns: shape[1], values: floats())
        default: throw TensorError(.invalidShape, "a matrix needs rank 1 or 2, got shape \(shape)")
        }
    }

    /// Element `i` read from little-endian storage, as a Double.
    @inline(__always)
    static func element(_ raw: UnsafeRawBufferPointer, _ dtype: DType, _ i: Int) -> Double {
        switch dtype {
        case .float16:
            Double(
                HalfFloat.float(
                    fromBits: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                )
            )
        case .bfloat16:
            Double(
                Float(
                    bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                        << 16
                )
            )
        case .float32:
            Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
        case .float64:
            Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
        case .int8: Double(raw.loadUnaligned(fromByteOffset: i, as: Int8.self))
        case .int16: Double(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
        case .int32: Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
        case .int64: Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
        case .uint8, .bool: Double(raw[i])
        case .uint16: Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case .uint32: Double(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        case .uint64: Double(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
        }
    }

    /// Converts native-endian element bytes to little-endian in place (a no-op on little-endian hosts).
    @inline(__always)
    static func toLittleEndian(_ bytes: inout [UInt8], elementSize: Int) {
        #if _endian(big)
        Tensor.swapBytes(&bytes, elementSize: elementSize)
        #endif
    }

    /// Reverses the byte order of every `elementSize`-byte element in place.
    public static func swapBytes(_ bytes: inout [UInt8], elementSize: Int) {
        guard elementSize > 1 else { return }
        bytes.withUnsafeMutableBufferPointer { buffer in
            var start = 0
            while start + elementSize <= buffer.count {
                var lo = start
                var hi = start + elementSize - 1
                while lo < hi {
                    buffer.swapAt(lo, hi)
                    lo += 1
                    hi -= 1
                }
                start += elementSize
            }
        }
    }
}
