#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file through a temporary sibling and `rename(2)`, so readers see the old file or the
/// whole new one, never a half-written one.
enum AtomicFile {
    /// Calls `body` with a file to fill, then moves it to `path`.
    /// - Parameter overwrite: when false, an existing `path` is an `alreadyExists` error.
    static func write(toPath path: String, overwrite: Bool, _ body: (PosixFile) throws -> Void) throws {
        if !overwrite, access(path, F_OK) == 0 {
            throw TensorIOError(.alreadyExists, path: path, "already exists; pass --force to overwrite it")
        }
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let file = try PosixFile(writingAtPath: temporary)
            try body(file)
            try file.synchronize()
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let message = PosixFile.message(errno)
            unlink(temporary)
            throw TensorIOError(.io, path: path, "cannot move the new file into place: \(message)")
        }
    }

    /// True when something exists at `path`.
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
