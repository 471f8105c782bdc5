/// SplitMix64: a small, fast, seedable generator for reproducible test data.
public struct TestRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The folder of the anchor data shared beside the repository (`../shared/anchors/keras/data`),
/// or nil when it is absent.
public func anchorDataDirectory(file: StaticString = #filePath) -> String? {
    var url = "\(file)".split(separator: "/").dropLast()  // …/Tests/X/file.swift → …/Tests/X
    while let last = url.last, last != "Tests" { url.removeLast() }
    url.removeLast()  // repository root
    let candidate = "/" + url.joined(separator: "/") + "/../shared/anchors/keras/data"
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) && isDirectory.boolValue ? candidate : nil
}

import Foundation
