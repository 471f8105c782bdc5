// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "fusebox",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Fusebox", targets: ["TensorCore", "TensorIO", "FusionCore", "RegistryStore"]),
        // The PostgreSQL backend on its own, so an application that keeps its store in a file never
        // builds postgres-nio and its TLS stack.
        .library(name: "FuseboxPostgres", targets: ["RegistryPostgres"]),
        .executable(name: "fusebox", targets: ["fusebox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // MARK: - Numerics core (stdlib, Dispatch, RealModule and its C kernels only)
        .target(name: "TensorKernels"),
        .target(
            name: "TensorCore",
            dependencies: ["TensorKernels", .product(name: "RealModule", package: "swift-numerics")]
        ),
        // MARK: - File formats
        .target(
            name: "TensorIO",
            dependencies: [
                "TensorCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        // MARK: - Fusion engine
        .target(
            name: "FusionCore",
            dependencies: [
                "TensorCore", "TensorIO",
                .product(name: "RealModule", package: "swift-numerics"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // MARK: - Persistence
        .target(name: "RegistryMigrations", path: "migrations", plugins: ["EmbedMigrations"]),
        .target(
            name: "RegistryStore",
            dependencies: [
                "FusionCore", "TensorIO", "RegistryMigrations",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // MARK: - The PostgreSQL backend (postgres-nio): schema, rows and blobs in one database
        .target(
            name: "RegistryPostgres",
            dependencies: [
                "RegistryStore", "RegistryMigrations", "TensorIO",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // MARK: - JSON shapes shared by the CLI and the server
        .target(name: "RegistryJSON", dependencies: ["RegistryStore", "FusionCore", "TensorCore"]),
        // MARK: - SVG charts drawn by the CLI and the web UI
        .target(name: "FuseboxCharts", dependencies: ["RegistryStore", "FusionCore"]),
        // MARK: - HTTP server
        .target(
            name: "FuseboxServer",
            dependencies: [
                "RegistryStore", "RegistryJSON", "FuseboxCharts", "FusionCore", "TensorCore", "TensorIO",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            plugins: ["EmbedText"]
        ),
        // MARK: - Command line
        .target(
            name: "FuseboxCLI",
            dependencies: [
                "RegistryStore", "RegistryJSON", "FuseboxCharts", "TensorIO", "FusionCore", "TensorCore",
                "FuseboxServer", "RegistryPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "fusebox",
            dependencies: [
                "FuseboxCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "fusebox-bench",
            dependencies: [
                "TensorCore", "TensorIO", "FusionCore", "RegistryStore", "RegistryPostgres",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // MARK: - Build tooling
        .executableTarget(name: "embed-migrations"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["embed-migrations"]),
        .executableTarget(name: "embed-text"),
        .plugin(name: "EmbedText", capability: .buildTool(), dependencies: ["embed-text"]),
        // MARK: - Tests
        .target(
            name: "FuseboxTestSupport",
            dependencies: [
                "TensorCore", "TensorIO", "FusionCore", "RegistryStore", "RegistryPostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/FuseboxTestSupport"
        ),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TensorKernels", "FuseboxTestSupport"]),
        .testTarget(name: "TensorIOTests", dependencies: ["TensorIO", "FuseboxTestSupport"]),
        .testTarget(name: "FusionCoreTests", dependencies: ["FusionCore", "TensorIO", "FuseboxTestSupport"]),
        .testTarget(
            name: "RegistryStoreTests",
            dependencies: [
                "RegistryStore", "RegistryMigrations", "FuseboxTestSupport", "TensorIO",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "RegistryPostgresTests",
            dependencies: [
                "RegistryPostgres", "RegistryStore", "RegistryMigrations", "FuseboxTestSupport", "TensorIO",
                "FusionCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "FuseboxCLITests",
            dependencies: [
                "FuseboxCLI", "FuseboxCharts", "fusebox", "FuseboxTestSupport", "RegistryPostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "FuseboxServerTests",
            dependencies: [
                "FuseboxServer", "RegistryStore", "FusionCore", "TensorCore", "TensorIO", "FuseboxTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

for target in package.targets where target.type != .plugin && target.name != "TensorKernels" {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
