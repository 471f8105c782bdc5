import TensorCore

/// A safetensors file opened for reading. Opening reads only the header; tensors are read one at
/// a time with `pread`, so the header of a multi-gigabyte file costs a few kilobytes of I/O.
///
/// ```swift
/// let file = try SafetensorsFile(path: "weights.safetensors")
/// let image = try file.tensor(named: "train.image")
/// ```
///
/// Sendable: its state is immutable after opening and reads use `pread`, which is safe from
/// several threads at once.
public final class SafetensorsFile: @unchecked Sendable {
    /// The path the file was opened at.
    public let path: String
    /// The validated header: every tensor's entry and the metadata.
    public let header: SafetensorsHeader
    /// The file's size in bytes.
    public var fileSize: Int { file.size }
    let file: PosixFile

    /// Opens and validates a file; see ``SafetensorsHeader`` for the rules.
    public init(path: String) throws {
        self.path = path
        file = try PosixFile(readingAtPath: path)
        guard file.size >= 8 else {
            throw TensorIOError(
                .truncated,
                path: path,
                "\(file.size) bytes is too short for a safetensors file (8-byte header length missing)"
            )
        }
        let prefix = try file.read(count: 8, at: 0)
        let declared = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard declared <= UInt64(SafetensorsHeader.maximumHeaderSize) else {
            let kind = FileSignature.describe(prefix).map { ": it looks like \($0)" } ?? ""
            throw TensorIOError(
                .invalidHeader,
                path: path,
                "is not a safetensors file\(kind) (its first 8 bytes would declare a \(declared)-byte header; the limit is \(SafetensorsHeader.maximumHeaderSize))"
            )
        }
        guard Int(declared) <= file.size - 8 else {
            throw TensorIOError(
                .truncated,
                path: path,
                "header length \(declared) runs past the end of the \(file.size)-byte file"
            )
        }
        let raw = try file.read(count: Int(declared), at: 8)
        header = try SafetensorsHeader(rawHeader: raw, dataSize: file.size - 8 - Int(declared), path: path)
    }

    /// Throws ``TensorIOError`` `changed` when the file was written to since it was opened (its
    /// size or modification time moved), so bytes read from it may mix old and new content.
    public func checkUnchanged() throws { try file.checkUnchanged() }

    /// Tensor names in header order.
    public var names: [String] { header.entries.map(\.name) }

    /// Reads the tensor called `name`.
    public func tensor(named name: String) throws -> Tensor {
        guard let entry = header.entry(named: name) else {
            throw TensorIOError(
                .missingTensor,
                path: path,
                "has no tensor '\(name)' (it holds: \(names.joined(separator: ", ")))"
            )
        }
        return try tensor(entry)
    }

    /// Reads the tensor an entry describes.
    public func tensor(_ entry: SafetensorsEntry) throws -> Tensor {
        let bytes = try file.read(count: entry.dataRange.count, at: fileRange(of: entry).lowerBound)
        do { return try Tensor(dtype: entry.dtype, shape: entry.shape, bytes: bytes) } catch {
            throw TensorIOError(.invalidOffsets, path: path, error.message)
        }
    }

    /// Every tensor, in header order.
    public func allTensors() throws -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        for e in header.entries { out.append((e.name, try tensor(e))) }
        return out
    }

    /// Streams an entry's bytes in chunks of at most `chunkSize`, reusing one buffer: memory stays
    /// at `chunkSize` whatever the tensor's size.
    public func forEachChunk(
        of entry: SafetensorsEntry,
        chunkSize: Int = 4 << 20,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try file.forEachChunk(of: fileRange(of: entry), chunkSize: chunkSize, body)
    }

    /// Where an entry's bytes are in the file (its data range, past the header).
    func fileRange(of entry: SafetensorsEntry) -> Range<Int> {
        entry.dataRange.lowerBound + header.dataOffset..<entry.dataRange.upperBound + header.dataOffset
    }
}

/// Writes safetensors files.
public enum SafetensorsWriter {
    /// Writes `tensors` in the order given, with a canonical header (see
    /// ``SafetensorsHeader``). The file appears atomically.
    /// - Parameters:
    ///   - tensors: the tensors and their names (unique).
    ///   - metadata: the `__metadata__` items, in the order given.
    ///   - path: where to write.
    ///   - overwrite: when false, an existing file is an error.
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)],
        metadata: [SafetensorsMetadataItem] = [],
        toPath path: String,
        overwrite: Bool = true
    ) throws {
        var seen = Set<String>()
        var entries: [SafetensorsEntry] = []
        var offset = 0
        for (name, tensor) in tensors {
            guard seen.insert(name).inserted else {
                throw TensorIOError(.duplicateName, path: path, "tensor name '\(name)' appears twice")
            }
            guard name != "__metadata__" else {
                throw TensorIOError(.invalidHeader, path: path, "'__metadata__' cannot name a tensor")
            }
            entries.append(
                SafetensorsEntry(
                    name: name,
                    dtype: tensor.dtype,
                    shape: tensor.shape,
                    dataRange: offset..<offset + tensor.bytes.count
                )
            )
            offset += tensor.bytes.count
        }
        let header = SafetensorsHeader.canonicalBytes(entries: entries, metadata: metadata)
        try write(rawHeader: header, toPath: path, overwrite: overwrite) { emit in
            for (_, tensor) in tensors { try tensor.withUnsafeBytes { try emit($0) } }
        }
    }

    /// Writes a file from header bytes kept from a read (or built) and a data source that emits
    /// the data section in order. This is how a registered file is exported bit for bit.
    public static func write(
        rawHeader: [UInt8],
        toPath path: String,
        overwrite: Bool,
        data: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        try write(rawHeader: rawHeader, toPath: path, overwrite: overwrite) { file in try data { try file.write($0) } }
    }

    /// Writes a file from header bytes and a data section that `data` appends to the file's
    /// writer — bytes, or objects copied in the kernel (``ObjectFolder/copy(_:to:)``).
    public static func write(
        rawHeader: [UInt8],
        toPath path: String,
        overwrite: Bool,
        into data: (BackgroundWriter) throws -> Void
    ) throws {
        try AtomicFile.write(toPath: path, overwrite: overwrite) { file in
            var prefix = UInt64(rawHeader.count).littleEndian
            try withUnsafeBytes(of: &prefix) { try file.write($0) }
            try rawHeader.withUnsafeBytes { try file.write($0) }
            try data(file)
        }
    }
}
