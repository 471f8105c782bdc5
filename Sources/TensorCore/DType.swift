/// The element types a ``Tensor`` can hold, named as in the safetensors format.
///
/// Storage is always little-endian. `bool` takes one byte per element (0 or 1), as in
/// safetensors and NumPy.
public enum DType: String, Sendable, Hashable, CaseIterable, Codable {
    /// IEEE 754 half precision (`F16`).
    case float16 = "F16"
    /// Brain floating point: the top 16 bits of a Float32 (`BF16`).
    case bfloat16 = "BF16"
    /// IEEE 754 single precision (`F32`), the type of every ``Matrix``.
    case float32 = "F32"
    /// IEEE 754 double precision (`F64`).
    case float64 = "F64"
    /// Signed 8-bit integer (`I8`).
    case int8 = "I8"
    /// Signed 16-bit integer (`I16`).
    case int16 = "I16"
    /// Signed 32-bit integer (`I32`).
    case int32 = "I32"
    /// Signed 64-bit integer (`I64`).
    case int64 = "I64"
    /// Unsigned 8-bit integer (`U8`).
    case uint8 = "U8"
    /// Unsigned 16-bit integer (`U16`).
    case uint16 = "U16"
    /// Unsigned 32-bit integer (`U32`).
    case uint32 = "U32"
    /// Unsigned 64-bit integer (`U64`).
    case uint64 = "U64"
    /// Boolean, one byte per element: 0 or 1 (`BOOL`).
    case bool = "BOOL"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .int8, .uint8, .bool: 1
        case .float16, .bfloat16, .int16, .uint16: 2
        case .float32, .int32, .uint32: 4
        case .float64, .int64, .uint64: 8
        }
    }

    /// True for the floating-point types.
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: true
        default: false
        }
    }

    /// True for the signed and unsigned integer types (not `bool`).
    public var isInteger: Bool { !isFloatingPoint && self != .bool }
}
