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
            // The header's sizes are input: deflate expands at most 1032:1, so a larger claim is a
            // lie (found by fuzzing: trusting it asked for exabytes of memory).
            // Saturating: a wrapped product, or `+ 1024` trapping on it, would turn the check itself
            // into a crash or a false refusal.
            let claimed = entry.uncompressedSize
            let (expanded, overflow) = entry.compressedSize.multipliedReportingOverflow(by: 1032)
            let limit = overflow || expanded > UInt64.max - 1024 ? UInt64.max : expanded + 1024
            guard claimed <= limit else {
                throw TensorIOError(
                    .invalidHeader,
                    path: path,
                    "member '\(entry.path)' claims \(claimed) bytes, more than its \(entry.compressedSize) compressed bytes can hold"
                )
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(min(claimed, 64 << 20)))
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in bytes.append(contentsOf: chunk) }
            } catch {
                throw TensorIOError(
                    .truncated,
                    path: path,
                    "member '\(entry.path)' cannot be extracted (damaged or truncated archive)"
                )
            }
            guard UInt64(bytes.count) == claimed else {
                throw TensorIOError(
                    .invalidHeader,
                    path: path,
                    "member '\(entry.path)' holds \(bytes.count) bytes but its header says \(claimed)"
                )
            }
            var name = entry.path
            if name.hasSuffix(".npy") { name.removeLast(4) }
            guard seen.insert(name).inserted else {
                throw TensorIOError(.duplicateName, path: path, "array '\(name)' appears twice")
            }
            out.append((name, try NumPyArray.decode(bytes, path: "\(path)[\(entry.path)]")))
        }
        return out
    }
}
