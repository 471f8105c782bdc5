import Crypto
import TensorIO

/// Cuts a stream of byte pieces of any sizes into a blob's chunks of exactly `chunkSize` bytes
/// (the last one shorter), hashing every byte on the way: how each backend writes a blob's
/// `tensorChunk` rows with one chunk in memory.
public struct BlobChunker {
    /// The size of every chunk but the last.
    public let chunkSize: Int
    /// The bytes seen so far.
    public private(set) var byteCount = 0
    private var hasher = SHA256()
    private var chunk: [UInt8] = []
    private var position = 0

    /// A chunker emitting chunks of `chunkSize` bytes.
    public init(chunkSize: Int) {
        self.chunkSize = chunkSize
        chunk.reserveCapacity(chunkSize)
    }

    /// Takes `piece`, calling `emit(position, bytes)` for each chunk it completes.
    public mutating func append(
        _ piece: UnsafeRawBufferPointer,
        emit: (_ position: Int, _ bytes: [UInt8]) throws -> Void
    ) throws {
        hasher.update(bufferPointer: piece)
        byteCount += piece.count
        var rest = piece[...]
        while !rest.isEmpty {
            let take = min(rest.count, chunkSize - chunk.count)
            chunk.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
            if chunk.count == chunkSize { try flush(emit) }
        }
    }

    /// Emits the last, partial chunk (if any) and returns the SHA-256 (hex) of every byte.
    public mutating func finish(emit: (_ position: Int, _ bytes: [UInt8]) throws -> Void) throws -> String {
        if !chunk.isEmpty { try flush(emit) }
        return SHA256Hex.hex(hasher.finalize())
    }

    private mutating func flush(_ emit: (Int, [UInt8]) throws -> Void) throws {
        try emit(position, chunk)
        position += 1
        chunk.removeAll(keepingCapacity: true)
    }
}
