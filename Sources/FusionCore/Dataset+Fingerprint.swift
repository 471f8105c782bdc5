import Crypto
import TensorCore
import TensorIO

extension Dataset {
    /// The canonical fingerprint: SHA-256, as 64 lowercase hex digits, over the dataset's
    /// tensors in canonical form, sorted by name.
    ///
    /// The tensors are every modality (Float32, `n × d`) and `labels` (Int32 class indices, or
    /// Float32 targets for regression). For each, in name order, the hash takes:
    /// the UTF-8 name, a 0 byte, the dtype name (`F32`/`I32`), a 0 byte, the rank and each
    /// dimension as UInt64 little-endian, then the little-endian element bytes.
    /// Kinds and class names are interpretation, not data, and are not hashed. So identical
    /// numbers give an identical fingerprint whether they came from safetensors, `.npy` (any
    /// byte order or integer width) or CSV.
    public var fingerprint: String {
        var tensors: [(String, Tensor)] = modalities.map { ($0.name, Tensor($0.values)) }
        switch targets {
        case .classes(let c): tensors.append(("labels", Tensor(int32s: c.map { Int32($0) }, shape: [c.count])))
        case .values(let v): tensors.append(("labels", Tensor(floats: v, shape: [v.count])))
        }
        var hasher = SHA256()
        for (name, tensor) in tensors.sorted(by: { $0.0 < $1.0 }) {
            hasher.update(data: Array(name.utf8) + [0] + Array(tensor.dtype.rawValue.utf8) + [0])
            var header = [UInt64(tensor.shape.rank)] + tensor.shape.dimensions.map { UInt64($0) }
            for i in header.indices { header[i] = header[i].littleEndian }
            header.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            tensor.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        }
        return SHA256Hex.hex(hasher.finalize())
    }
}
