import Crypto
import TensorIO

/// SHA-256 over streamed chunks (swift-crypto), as hex.
struct StreamingSHA256 {
    private var hasher = SHA256()
    mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
    func hex() -> String { SHA256Hex.hex(hasher.finalize()) }
}
