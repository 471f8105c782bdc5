/// What a file is, from its first bytes, for messages that say what was given instead of what was
/// expected (`--weights labels.npy` is "a NumPy array (.npy)", not an absurd safetensors header).
enum FileSignature {
    static let known: [(magic: [UInt8], name: String)] = [
        ([0x93] + Array("NUMPY".utf8), "a NumPy array (.npy)"),
        ([0x50, 0x4B, 0x03, 0x04], "a zip archive (.npz or another zip)"),
        (Array("SQLite format 3".utf8), "an SQLite database"),
        ([0x89, 0x50, 0x4E, 0x47], "a PNG image"),
        (Array("PAR1".utf8), "a Parquet file"),
        ([0x1F, 0x8B], "a gzip file"),
    ]

    /// The kind of file whose first bytes are `prefix` (at least 4), or nil when unrecognised.
    static func describe(_ prefix: [UInt8]) -> String? {
        guard prefix.count >= 4 else { return nil }
        return known.first { prefix.starts(with: $0.magic.prefix(prefix.count)) }?.name
    }
}
