import Foundation
import RegistryStore
import TensorIO

/// One libFuzzer entry point for every parser; `FUZZ_TARGET` picks which: `safetensors`, `npy`,
/// `npz`, `csv` or `query`. Any input may be rejected with an error; none may crash, hang or
/// trip AddressSanitizer.
let target = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "safetensors"
let scratch = NSTemporaryDirectory() + "fusebox-fuzz-\(getpid())"

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
    case "npz", "safetensors":
        let path = scratch + (target == "npz" ? ".npz" : ".safetensors")
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        if target == "npz" {
            _ = try? NumPyArchive.read(path: path)
        } else if let file = try? SafetensorsFile(path: path) {
            _ = try? file.allTensors()
        }
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
