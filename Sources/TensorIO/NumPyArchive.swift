import Foundation
import TensorCore
import ZIPFoundation

/// NumPy's `.npz` format: a zip archive of `.npy` members, stored or deflated
/// (`numpy.savez` / `numpy.savez_compressed`). Members are named without their `.npy` suffix,
/// as `numpy.load` does.
public enum NumPyArchive {
    /// Reads every array of a `.npz` file, in archive order.
    public static func read(path: String) throws -> [(name: String, tensor: Tensor)] {
        guard AtomicFile.exists(path) else { throw TensorIOError(.fileNotFound, path: path, "no such file") }
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw TensorIOError(.invalidHeader, path: path, "not a readable .npz (zip) archive")
        }
        var out: [(name: String, tensor: Tensor)] = []
        var seen = Set<String>()
        for entry in archive where entry.type == .file {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(clamping: entry.uncompressedSize))
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in bytes.append(contentsOf: chunk) }
            } catch {
                throw TensorIOError(.truncated, path: path, "member '\(entry.path)' cannot be extracted (damaged or truncated archive)")
            }
            var name = entry.path
            if name.hasSuffix(".npy") { name.removeLast(4) }
            guard seen.insert(name).inserted else { throw TensorIOError(.duplicateName, path: path, "array '\(name)' appears twice") }
            out.append((name, try NumPyArray.decode(bytes, path: "\(path)[\(entry.path)]")))
        }
        return out
    }
}
