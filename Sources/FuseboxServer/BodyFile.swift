import Crypto
import Foundation
import Hummingbird
import TensorIO

/// A request body streamed to a temporary file, so an upload of any size holds one chunk in memory.
struct BodyFile {
    let path: String
    let byteCount: Int
    /// The SHA-256 of the bytes received, as hex.
    let sha256: String

    /// Streams `body` to a new file under `directory`; above `limit` bytes the file is removed and
    /// the request refused with 413.
    static func receive(_ body: RequestBody, limit: Int, in directory: String) async throws -> BodyFile {
        let path = (directory as NSString).appendingPathComponent("fusebox-upload-\(UUID().uuidString).part")
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw APIError(.internalServerError, "io", "Cannot create a temporary file in '\(directory)'.") }
        var hasher = SHA256()
        var count = 0
        do {
            defer { try? handle.close() }
            for try await buffer in body {
                count += buffer.readableBytes
                guard count <= limit else {
                    throw APIError(.contentTooLarge, "too_large", "The upload is larger than \(limit) bytes.")
                }
                try buffer.withUnsafeReadableBytes { bytes in
                    hasher.update(bufferPointer: bytes)
                    try handle.write(contentsOf: bytes)
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return BodyFile(path: path, byteCount: count, sha256: SHA256Hex.hex(hasher.finalize()))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
