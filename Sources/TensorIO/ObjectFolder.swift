import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A folder of immutable files named by the SHA-256 of their bytes, as git keeps its objects:
/// `root/ab/cdef…` holds the bytes whose digest is `abcdef…` (64 lowercase hex digits, split after
/// the first two so no folder grows past 256 entries at the top).
///
/// Writing is durable before it is visible: ``stage(_:)`` writes the bytes to `root/tmp/`,
/// hashing them as they pass, and `fsync`s the file; ``publish(_:)`` then `rename`s it to its
/// name and `fsync`s the folder. A process killed at any instant leaves at most a temporary file
/// (``removeTemporaries()``), never a named file with the wrong bytes. Reading re-hashes
/// (``read(_:chunkSize:_:)``), so a file damaged on disk is found by whoever reads it.
public struct ObjectFolder: Sendable {
    /// The folder's path.
    public let root: String

    /// A folder at `root`; nothing is created until the first ``stage(_:)``.
    public init(root: String) { self.root = root }

    /// The path of the object with digest `sha256` (which may not exist).
    public func path(of sha256: String) -> String {
        "\(root)/\(sha256.prefix(2))/\(sha256.dropFirst(2))"
    }

    /// True when the object with digest `sha256` exists.
    public func contains(_ sha256: String) -> Bool { access(path(of: sha256), F_OK) == 0 }

    /// Writes the bytes `produce` emits to a new temporary file, hashing them on the way (the
    /// writing runs on a second thread, ``BackgroundWriter``), and flushes it to the disk.
    /// Memory: what `produce` hands over at a time and two 4 MiB buffers.
    /// - Returns: the staged file, its digest and size, ready for ``publish(_:)`` or ``discard(_:)``.
    public func stage(
        _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> StagedObject {
        try staging { writer in
            var hasher = SHA256()
            var byteCount = 0
            try produce { bytes in
                try writer.write(bytes)
                hasher.update(bufferPointer: bytes)
                byteCount += bytes.count
            }
            return (byteCount, SHA256Hex.hex(hasher.finalize()))
        }
    }

    /// Stages one tensor's bytes of a safetensors file, copied by the kernel while another thread
    /// hashes them (``stage(_:)`` without a copy through this process).
    public func stage(_ entry: SafetensorsEntry, of file: SafetensorsFile) throws -> StagedObject {
        try staging { writer in
            (entry.dataRange.count, try writer.copyHashing(from: file.file, range: file.fileRange(of: entry)))
        }
    }

    /// Stages a whole file, copied by the kernel while another thread hashes it.
    /// - Throws: ``TensorIOError`` `changed` when the file was written to meanwhile (nothing is staged).
    public func stage(copyingFileAt path: String) throws -> StagedObject {
        let source = try PosixFile(readingAtPath: path)
        let staged = try staging { writer in (source.size, try writer.copyHashing(from: source, range: 0..<source.size))
        }
        do { try source.checkUnchanged() } catch {
            discard(staged)
            throw error
        }
        return staged
    }

    /// Appends the object with digest `sha256` to `writer`, copied by the kernel while another
    /// thread hashes it. - Returns: the bytes copied and their SHA-256, for the caller to compare
    /// with `sha256` (a damaged object is copied as it is). - Throws: ``TensorIOError``
    /// `fileNotFound` when there is no such object.
    public func copy(_ sha256: String, to writer: BackgroundWriter) throws -> (byteCount: Int, sha256: String) {
        let source = try PosixFile(readingAtPath: path(of: sha256))
        return (source.size, try writer.copyHashing(from: source, range: 0..<source.size))
    }

    /// Moves a staged file to its name (replacing an equal object, if one is there) and flushes
    /// the folder entry, so the object is on the disk before anything that names it is written.
    public func publish(_ staged: StagedObject) throws {
        let destination = path(of: staged.sha256)
        let folder = (destination as NSString).deletingLastPathComponent
        let created = try createFolder(folder)
        guard rename(staged.temporaryPath, destination) == 0 else {
            let message = PosixFile.message(errno)
            unlink(staged.temporaryPath)
            throw TensorIOError(.io, path: destination, "cannot move the new object into place: \(message)")
        }
        try synchronizeFolder(folder)
        if created { try synchronizeFolder(root) }
    }

    /// Removes a staged file that is not needed (its bytes are already stored).
    public func discard(_ staged: StagedObject) { unlink(staged.temporaryPath) }

    /// Streams the object's bytes in order, `chunkSize` at a time, hashing them.
    /// - Returns: the number of bytes read and their SHA-256, for the caller to compare with what
    ///   it recorded. - Throws: ``TensorIOError`` `fileNotFound` when there is no such object.
    @discardableResult
    public func read(
        _ sha256: String,
        chunkSize: Int = 4 << 20,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> (byteCount: Int, sha256: String) {
        var hasher = SHA256()
        let count = try FileChunks.forEach(ofFileAtPath: path(of: sha256), chunkSize: chunkSize) { bytes in
            hasher.update(bufferPointer: bytes)
            try body(bytes)
        }
        return (count, SHA256Hex.hex(hasher.finalize()))
    }

    /// Removes an object; one that is already gone is not an error.
    public func remove(_ sha256: String) throws {
        let file = path(of: sha256)
        guard unlink(file) == 0 || errno == ENOENT else {
            throw TensorIOError(.io, path: file, "cannot remove: \(PosixFile.message(errno))")
        }
    }

    /// The digests of every object in the folder (none when it does not exist), in order.
    public func digests() throws -> [String] {
        let manager = FileManager.default
        guard manager.fileExists(atPath: root) else { return [] }
        var out: [String] = []
        for prefix in try manager.contentsOfDirectory(atPath: root) where Self.isHex(prefix, count: 2) {
            for rest in try manager.contentsOfDirectory(atPath: "\(root)/\(prefix)") where Self.isHex(rest, count: 62) {
                out.append(prefix + rest)
            }
        }
        return out.sorted()
    }

    /// The temporary files of ``stage(_:)`` not yet published or discarded: while no writer is
    /// staging, those left by writers that were stopped.
    public func temporaries() -> [String] {
        let folder = "\(root)/tmp"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map { "\(folder)/\($0)" }
    }

    /// Removes the ``temporaries()``. Only call it while no writer can be staging (the store's
    /// write lock). - Returns: how many were removed.
    @discardableResult
    public func removeTemporaries() -> Int { temporaries().filter { unlink($0) == 0 }.count }

    /// Runs `body` on a new temporary file's writer; `body` returns the size and digest of what
    /// it wrote. The file is flushed to the disk before this returns, and removed on any error.
    private func staging(_ body: (BackgroundWriter) throws -> (Int, String)) throws -> StagedObject {
        try createFolder("\(root)/tmp")
        let temporary = "\(root)/tmp/\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        do {
            let file = try PosixFile(writingAtPath: temporary)
            let writer = BackgroundWriter(file)
            let (byteCount, sha256) = try body(writer)
            try writer.finish()
            try file.synchronize()
            return StagedObject(sha256: sha256, byteCount: byteCount, temporaryPath: temporary)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Creates `folder` (and its parents) if missing. - Returns: true when it was created.
    @discardableResult
    private func createFolder(_ folder: String) throws -> Bool {
        if access(folder, F_OK) == 0 { return false }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TensorIOError(.io, path: folder, "cannot create the object folder: \(error.localizedDescription)")
        }
        return true
    }

    private func synchronizeFolder(_ folder: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw TensorIOError(.io, path: folder, "cannot open: \(PosixFile.message(errno))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw TensorIOError(.io, path: folder, "fsync failed: \(PosixFile.message(errno))")
        }
    }

    private static func isHex(_ name: String, count: Int) -> Bool {
        name.utf8.count == count && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// Bytes written and flushed by ``ObjectFolder/stage(_:)``, not yet under their name.
public struct StagedObject: Sendable, Hashable {
    /// The SHA-256 of the bytes, lowercase hex.
    public let sha256: String
    /// How many bytes were written.
    public let byteCount: Int
    /// The temporary file holding them.
    public let temporaryPath: String
}
