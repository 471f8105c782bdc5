// swift-tools-version:6.1
// libFuzzer harnesses for Fusebox's parsers, kept out of the main package so its sanitizer flags
// never reach the normal build. Build and run with Fuzz/run.sh.
import Foundation
import PackageDescription

// A path dependency is identified by its folder's name, which depends on where the repository
// was cloned.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "fusebox-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "fuzz-parsers",
            dependencies: [.product(name: "Fusebox", package: root)],
            swiftSettings: [.unsafeFlags(["-parse-as-library", "-sanitize=fuzzer,address"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        )
    ]
)
