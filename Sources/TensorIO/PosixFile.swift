import Crypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened with POSIX `open`, read with `pread` straight into the caller's buffers (no
/// intermediate `Data`), so large tensors are read at the speed of the disk and in bounded memory.
final class PosixFile {
    let path: String
    let descriptor: Int32
    /// The file's size in bytes when it was opened.
    let size: Int
    /// Its modification time when it was opened (seconds, nanoseconds), for ``checkUnchanged()``.
    private let modified: (Int, Int)

    /// Opens `path` for reading.
    init(readingAtPath path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            throw TensorIOError(
                e == ENOENT ? .fileNotFound : .io,
                path: path,
                e == ENOENT ? "no such file" : "cannot open: \(PosixFile.message(e))"
            )
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw TensorIOError(.io, path: path, "cannot stat: \(PosixFile.message(errno))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw TensorIOError(.io, path: path, "not a regular file")
        }
        self.descriptor = fd
        self.size = Int(info.st_size)
        self.modified = Self.modificationTime(info)
    }

    /// Creates (or truncates) `path` for writing, with mode 0644.
    init(writingAtPath path: String) throws {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TensorIOError(.io, path: path, "cannot create: \(PosixFile.message(errno))") }
        self.descriptor = fd
        self.size = 0
        self.modified = (0, 0)
    }

    deinit { close(descriptor) }

    static func message(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Reads exactly `count` bytes at `offset` into `buffer`.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw TensorIOError(.io, path: path, "read failed: \(PosixFile.message(errno))")
            }
            if n == 0 {
                throw TensorIOError(
                    .truncated,
                    path: path,
                    "file ends at byte \(offset + done), \(buffer.count - done) bytes short"
                )
            }
            done += n
        }
    }

    /// Reads exactly `count` bytes at `offset`.
    func read(count: Int, at offset: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        var failure: (any Error)?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do { try read(into: UnsafeMutableRawBufferPointer(buffer), at: offset) } catch { failure = error }
            initialized = count
        }
        if let failure { throw failure }
        return bytes
    }

    /// Throws `changed` when the file's size or modification time is not what it was when it was
    /// opened: someone wrote to it meanwhile, so what was read may mix old and new bytes.
    func checkUnchanged() throws {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw TensorIOError(.io, path: path, "cannot stat: \(PosixFile.message(errno))")
        }
        guard Int(info.st_size) == size, Self.modificationTime(info) == modified else {
            throw TensorIOError(
                .changed,
                path: path,
                "changed while it was being read; try again once it is complete"
            )
        }
    }

    private static func modificationTime(_ info: stat) -> (Int, Int) {
        #if canImport(Darwin)
        (Int(info.st_mtimespec.tv_sec), Int(info.st_mtimespec.tv_nsec))
        #else
        (Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec))
        #endif
    }

    /// Appends all of `bytes` at the current position.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc_write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw TensorIOError(.io, path: path, "write failed: \(PosixFile.message(errno))")
            }
            done += n
        }
    }

    /// Appends bytes `range` of `source` at this file's position, copied by the kernel
    /// (`sendfile(2)`), never through this process's memory.
    func append(_ range: Range<Int>, of source: PosixFile) throws {
        var offset = off_t(range.lowerBound)
        while offset < off_t(range.upperBound) {
            let n = sendfile(descriptor, source.descriptor, &offset, Swift.min(1 << 30, range.upperBound - Int(offset)))
            if n < 0 {
                if errno == EINTR { continue }
                throw TensorIOError(.io, path: path, "write failed: \(PosixFile.message(errno))")
            }
            if n == 0 {
                throw TensorIOError(
                    .truncated,
                    path: source.path,
                    "file ends at byte \(offset), before \(range.upperBound)"
                )
            }
        }
    }

    /// Calls `body` with bytes `range` in order, `chunkSize` at a time (the last chunk may be
    /// shorter), through one reused buffer: memory stays at `chunkSize` whatever the range's size.
    func forEachChunk(of range: Range<Int>, chunkSize: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: Swift.max(1, Swift.min(chunkSize, range.count)))
        var offset = range.lowerBound
        while offset < range.upperBound {
            let n = Swift.min(buffer.count, range.upperBound - offset)
            try buffer.withUnsafeMutableBytes { raw in
                let slice = UnsafeMutableRawBufferPointer(rebasing: raw[0..<n])
                try read(into: slice, at: offset)
                try body(UnsafeRawBufferPointer(slice))
            }
            offset += n
        }
    }

    /// The SHA-256 (lowercase hex) of bytes `range`, read in 4 MiB chunks.
    func sha256(of range: Range<Int>) throws -> String {
        var hasher = SHA256()
        try forEachChunk(of: range, chunkSize: 4 << 20) { hasher.update(bufferPointer: $0) }
        return SHA256Hex.hex(hasher.finalize())
    }

    /// Flushes the file's data to the disk.
    func synchronize() throws {
        guard fsync(descriptor) == 0 else {
            throw TensorIOError(.io, path: path, "fsync failed: \(PosixFile.message(errno))")
        }
    }
}

@inline(__always)
private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
