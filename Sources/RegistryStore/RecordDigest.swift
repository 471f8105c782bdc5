import Crypto
import Foundation
import GRDB
import TensorIO

/// The digest of a stored record, computed in SQL as `fusebox_digest(column, ...)`.
///
/// `fusebox_digest(x₁, …, xₙ)` = SHA-256 (hex) of `enc(x₁) ‖ … ‖ enc(xₙ)`, where `enc(x)` is a type
/// byte (0 NULL, 1 integer, 2 real, 3 text, 4 blob), the payload's length as 8 little-endian bytes,
/// then the payload (integers and reals as 8 little-endian bytes, text as UTF-8). Typing and
/// length prefixes make the encoding injective: no two different argument lists share an input.
///
/// The views `versionDigest`, `evaluationDigest` and `comparisonDigest` (migration 0007) say which
/// columns each digest covers; writers store the view's value in the writing transaction, every
/// load and `fusebox verify` recompute it and compare.
enum RecordDigest {
    /// The SQL function, added to every connection the registry opens.
    static let function = DatabaseFunction("fusebox_digest", argumentCount: nil, pure: true) { values in
        hex(of: values)
    }

    static func hex(of values: [DatabaseValue]) -> String {
        var hasher = SHA256()
        func append(_ tag: UInt8, _ payload: UnsafeRawBufferPointer) {
            hasher.update(data: [tag])
            withUnsafeBytes(of: UInt64(payload.count).littleEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(bufferPointer: payload)
        }
        for value in values {
            switch value.storage {
            case .null: append(0, UnsafeRawBufferPointer(start: nil, count: 0))
            case .int64(let i): withUnsafeBytes(of: i.littleEndian) { append(1, $0) }
            case .double(let d): withUnsafeBytes(of: d.bitPattern.littleEndian) { append(2, $0) }
            case .string(let s): Array(s.utf8).withUnsafeBytes { append(3, $0) }
            case .blob(let b): b.withUnsafeBytes { append(4, $0) }
            }
        }
        return SHA256Hex.hex(hasher.finalize())
    }
}
