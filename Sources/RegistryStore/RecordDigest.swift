import GRDB

/// The digest of a stored record, computed in SQL as `fusebox_digest(column, ...)`.
///
/// `fusebox_digest(x₁, …, xₙ)` = SHA-256 (hex) of `enc(x₁) ‖ … ‖ enc(xₙ)`, where `enc(x)` is a type
/// byte (0 NULL, 1 integer, 2 real, 3 text, 4 blob), the payload's length as 8 little-endian bytes,
/// then the payload (integers and reals as 8 little-endian bytes, text as UTF-8). Typing and
/// length prefixes make the encoding injective: no two different argument lists share an input.
///
/// The encoding is `RecordDigests`'s. SQLite's migrations 0007–0011 defined the digests as views
/// over this function; migration 0012 moved them to Swift (`RecordDigests`, the same on both
/// backends), and the function stays so that those migrations still run on an older store.
enum RecordDigest {
    /// The SQL function, added to every connection the registry opens.
    static let function = DatabaseFunction("fusebox_digest", argumentCount: nil, pure: true) { values in
        hex(of: values)
    }

    /// The digest of SQL values: `RecordDigests.Builder`'s encoding, one item per argument.
    static func hex(of values: [DatabaseValue]) -> String {
        RecordDigests.Builder.hex(of: values.map(SQLiteSQL.storeValue))
    }
}
