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
    /// Calls `body` with a file to fill (written on a second thread while `body` produces the
    /// next bytes, ``BackgroundWriter``), flushes it to the disk, then moves it to `path`.
    /// - Parameter overwrite: when false, an existing `path` is an `alreadyExists` error.
    static func write(toPath path: String, overwrite: Bool, _ body: (BackgroundWriter) throws -> Void) throws {
        if !overwrite, access(path, F_OK) == 0 {
            throw TensorIOError(.alreadyExists, path: path, "already exists; pass --force to overwrite it")
        }
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let file: PosixFile
            do { file = try PosixFile(writingAtPath: temporary) } catch {
                // Name the user's path, not the temporary sibling.
                throw TensorIOError(.io, path: path, "cannot be created: \(PosixFile.message(errno))")
            }
            let writer = BackgroundWriter(file)
            try body(writer)
            try writer.finish()
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

/// Every file a command writes for the user (predictions, exports, reports, charts) follows one
/// rule: an existing file is refused unless `overwrite` (`--force`), and the new content replaces
/// it by `rename(2)`, so the path holds the old file or the whole new one, never a mix.
public enum OutputFile {
    /// Writes `bytes` to `path` by the rule above.
    /// - Throws: ``TensorIOError`` `alreadyExists` (naming `--force`) or `io`, naming `path`.
    public static func write(_ bytes: some Collection<UInt8>, toPath path: String, overwrite: Bool) throws {
        let buffer = Array(bytes)
        try AtomicFile.write(toPath: path, overwrite: overwrite) { file in
            try buffer.withUnsafeBytes { try file.write($0) }
        }
    }

    /// Writes UTF-8 text to `path` by the rule above.
    public static func write(text: String, toPath path: String, overwrite: Bool) throws {
        try write(Array(text.utf8), toPath: path, overwrite: overwrite)
    }

    /// Fails early (before any work) when `path` exists and `overwrite` is false.
    public static func checkWritable(_ path: String, overwrite: Bool) throws {
        if !overwrite, AtomicFile.exists(path) {
            throw TensorIOError(.alreadyExists, path: path, "already exists; pass --force to overwrite it")
        }
    }
}
