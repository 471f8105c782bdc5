import Foundation

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

/// The folder of the Keras anchor data committed with the tests (`Tests/Fixtures/keras`, see its README).
public func anchorDataDirectory(file: StaticString = #filePath) -> String {
    var url = "\(file)".split(separator: "/").dropLast()  // …/Tests/X/file.swift → …/Tests/X
    while let last = url.last, last != "Tests" { url.removeLast() }
    return "/" + url.joined(separator: "/") + "/Fixtures/keras"
}

/// True under CI (`CI=true`): a test whose outside dependency is missing then fails instead of
/// being skipped (use `.enabled(if: available || isCI)` and `try #require(available)` in the body).
public let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
