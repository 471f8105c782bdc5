/// A whole file read in bounded chunks, for callers outside TensorIO that store or hash files of
/// any size (artifacts) without holding them in memory.
public enum FileChunks {
    /// The file's size in bytes. - Throws: ``TensorIOError`` naming the path.
    public static func size(ofFileAtPath path: String) throws -> Int {
        try PosixFile(readingAtPath: path).size
    }

    /// Calls `body` with the file's bytes in order, `chunkSize` bytes at a time (the last chunk
    /// may be shorter). - Returns: the number of bytes read.
    /// - Throws: ``TensorIOError`` `changed` when the file was written to while it was read.
    @discardableResult
    public static func forEach(
        ofFileAtPath path: String,
        chunkSize: Int = 4 << 20,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        let file = try PosixFile(readingAtPath: path)
        try file.forEachChunk(of: 0..<file.size, chunkSize: chunkSize, body)
        try file.checkUnchanged()
        return file.size
    }
}

extension OutputFile {
    /// Writes what `produce` emits to `path` by the rule of ``OutputFile``: an existing file is
    /// refused unless `overwrite`; the path holds the old file or the whole new one.
    public static func write(
        toPath path: String,
        overwrite: Bool,
        streaming produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        try write(toPath: path, overwrite: overwrite) { file in try produce { try file.write($0) } }
    }

    /// Writes what `body` appends to the file's writer — bytes, or objects copied in the kernel
    /// (``ObjectFolder/copy(_:to:)``) — to `path` by the rule of ``OutputFile``.
    public static func write(
        toPath path: String,
        overwrite: Bool,
        into body: (BackgroundWriter) throws -> Void
    ) throws {
        try AtomicFile.write(toPath: path, overwrite: overwrite, body)
    }
}
