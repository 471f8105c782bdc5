import Crypto
import Foundation
import GRDB
import TensorCore
import TensorIO

/// Content-addressed tensor bytes: a blob is identified by the SHA-256 of its bytes, stored once,
/// in chunks of at most ``chunkSize`` bytes (far below SQLite's 1 GB blob limit, and the most a
/// read or write holds in memory at once).
enum TensorBlobs {
    static let chunkSize = 4 << 20

    /// Stores a blob unless one with this digest exists; `produce` is called only for a new blob
    /// and must emit exactly `byteCount` bytes whose SHA-256 is `sha256`. The bytes are hashed as
    /// they are stored: a source that changed since it was hashed is refused (`conflict`, naming
    /// `source`), and the caller's transaction stores nothing.
    /// - Returns: the blob's id and whether it was new.
    static func store(
        sha256: String,
        byteCount: Int,
        source: @autoclosure () -> String = "a tensor",
        in db: Database,
        produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> (id: Int64, isNew: Bool) {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM tensorBlob WHERE sha256 = ?", arguments: [sha256]) {
            return (id, false)
        }
        let chunkCount = (byteCount + chunkSize - 1) / chunkSize
        try db.execute(
            sql: "INSERT INTO tensorBlob (sha256, byteCount, chunkCount) VALUES (?, ?, ?)",
            arguments: [sha256, byteCount, chunkCount]
        )
        let id = db.lastInsertedRowID
        let insert = try db.cachedStatement(sql: "INSERT INTO tensorChunk (blobId, position, bytes) VALUES (?, ?, ?)")
        var pending = Data()
        pending.reserveCapacity(min(byteCount, chunkSize))
        var position = 0
        var written = 0
        var hasher = SHA256()
        func flush() throws {
            insert.setUncheckedArguments([id, position, pending])
            try insert.execute()
            position += 1
            written += pending.count
            pending.removeAll(keepingCapacity: true)
        }
        try produce { bytes in
            hasher.update(bufferPointer: bytes)
            var offset = 0
            while offset < bytes.count {
                let n = min(chunkSize - pending.count, bytes.count - offset)
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
                offset += n
                if pending.count == chunkSize { try flush() }
            }
        }
        if !pending.isEmpty { try flush() }
        guard written == byteCount, position == chunkCount else {
            throw RegistryError(
                .invalidInput,
                "A tensor's data in \(source()) was \(written) bytes, its header said \(byteCount)."
            )
        }
        guard SHA256Hex.hex(hasher.finalize()) == sha256 else {
            throw RegistryError(
                .conflict,
                "\(source()) changed while it was being registered; nothing was stored. Try again once it is complete."
            )
        }
        return (id, true)
    }

    /// Stores an in-memory tensor's bytes.
    static func store(_ tensor: Tensor, sha256: String, in db: Database) throws -> Int64 {
        try store(sha256: sha256, byteCount: tensor.bytes.count, in: db) { emit in
            try tensor.withUnsafeBytes { try emit($0) }
        }.id
    }

    /// Streams a blob's chunks in order; when `verify` is set, re-hashes them and throws
    /// `corruptData` (naming `what`) if the digest or length differs from the record.
    static func stream(
        blobId: Int64,
        in db: Database,
        verify: Bool,
        what: @autoclosure () -> String,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT sha256, byteCount, chunkCount FROM tensorBlob WHERE id = ?",
                arguments: [blobId]
            )
        else { throw RegistryError(.corruptData, "\(what()) points at a missing blob; run 'fusebox verify'.") }
        let expected: String = row["sha256"]
        let byteCount: Int = row["byteCount"]
        var hasher = SHA256()
        var total = 0
        var position = 0
        let chunks = try Row.fetchCursor(
            db,
            sql: "SELECT position, bytes FROM tensorChunk WHERE blobId = ? ORDER BY position",
            arguments: [blobId]
        )
        while let chunk = try chunks.next() {
            guard chunk["position"] as Int == position else { break }
            position += 1
            // The row's bytes are only valid until the cursor moves: use them inside the closure.
            try chunk.withUnsafeData(atIndex: 1) { data in
                guard let data else { return }
                try data.withUnsafeBytes { raw in
                    if verify { hasher.update(bufferPointer: raw) }
                    total += raw.count
                    try body(raw)
                }
            }
        }
        if verify {
            let digest = SHA256Hex.hex(hasher.finalize())
            guard total == byteCount, digest == expected else {
                throw RegistryError(
                    .corruptData,
                    "\(what()) fails its checksum: the stored bytes changed (\(total) of \(byteCount) bytes, SHA-256 \(digest.prefix(12))… instead of \(expected.prefix(12))…). Run 'fusebox verify'."
                )
            }
        }
    }

    /// Reads a whole blob into memory (verified by default).
    static func read(
        blobId: Int64,
        byteCount: Int,
        in db: Database,
        verify: Bool,
        what: @autoclosure () -> String
    ) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(byteCount)
        try stream(blobId: blobId, in: db, verify: verify, what: what()) { out.append(contentsOf: $0) }
        return out
    }
}
