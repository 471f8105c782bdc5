import Crypto

/// SHA-256 helpers over byte buffers and files, as lowercase hex.
public enum SHA256Hex {
    /// The digest of `bytes`.
    public static func of(_ bytes: some Sequence<UInt8>) -> String {
        hex(SHA256.hash(data: Array(bytes)))
    }

    /// The digest of a file's whole content, read in 4 MiB chunks.
    public static func ofFile(atPath path: String) throws -> String {
        let file = try PosixFile(readingAtPath: path)
        return try file.sha256(of: 0..<file.size)
    }

    /// Lowercase hex of a digest.
    public static func hex(_ digest: some Sequence<UInt8>) -> String {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in digest {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
