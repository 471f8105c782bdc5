import Foundation
import RegistryStore
import TensorCore
import TensorIO

/// One libFuzzer entry point for every parser; `FUZZ_TARGET` picks which: `safetensors`, `npy`,
/// `npz`, `csv` or `query`. Any input may be rejected with an error; none may crash, hang or
/// trip AddressSanitizer.
let target = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "safetensors"
let scratch = (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()) + "fusebox-fuzz-\(getpid()).npz"
let scratchFile = open(scratch, O_RDWR | O_CREAT | O_TRUNC, 0o600)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    switch target {
    case "npy":
        _ = try? NumPyArray.decode(bytes, path: "fuzz.npy")
    case "csv":
        if let text = String(validating: bytes, as: UTF8.self) { _ = try? CSVTable.parse(text, path: "fuzz.csv", labelColumn: "0") }
    case "query":
        if let text = String(validating: bytes, as: UTF8.self) { try? Registry.validateQuery(text) }
    case "safetensors":
        // In memory, as SafetensorsFile does it from disk: the 8-byte length, the header checks,
        // then every tensor built from its byte range. (Through a file: 650 inputs/s.)
        guard bytes.count >= 8 else { return 0 }
        let declared = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard declared <= UInt64(bytes.count - 8) else { return 0 }
        let end = 8 + Int(declared)
        guard let header = try? SafetensorsHeader(rawHeader: Array(bytes[8..<end]), dataSize: bytes.count - end, path: "fuzz") else { return 0 }
        for entry in header.entries {
            _ = try? Tensor(dtype: entry.dtype, shape: entry.shape, bytes: Array(bytes[end + entry.dataRange.lowerBound..<end + entry.dataRange.upperBound]))
        }
    case "npz":
        // Through a file, as the product reads archives: ZIPFoundation's in-memory archive traps
        // on a seek past the end (found here), so the product never uses it. One file in shared
        // memory, rewritten in place: ~750 inputs/s (createFile each time: ~150/s).
        guard pwrite(scratchFile, bytes, bytes.count, 0) == bytes.count, ftruncate(scratchFile, off_t(bytes.count)) == 0 else {
            fatalError("cannot write \(scratch)")
        }
        _ = try? NumPyArchive.read(path: scratch)
    default:
        fatalError("unknown FUZZ_TARGET '\(target)'")
    }
    return 0
}

/// libFuzzer's driver (FuzzerInterface.h): runs the fuzzing loop with `callback`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The executable's entry point: SwiftPM links `main` to `<module>_main`, so this stands in for
/// libFuzzer's own `main` and starts its driver.
@_cdecl("fuzz_parsers_main")
public func fuzzParsersMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data, size > 0 else { return fuzz(UnsafeRawPointer(bitPattern: 1)!, 0) }
        return fuzz(UnsafeRawPointer(data), size)
    }
}
