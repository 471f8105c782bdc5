import Foundation
import TensorIO

/// The result of running the built `fusebox` binary.
public struct CLIResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs the `fusebox` binary built beside the test bundle, in `directory`, with `FUSEBOX_DB`
/// unset unless given, and no terminal (so no progress line and no colour).
public enum FuseboxBinary {
    public static var path: String {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while url.path != "/" {
            let candidate = url.appendingPathComponent("fusebox").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            url.deleteLastPathComponent()
        }
        return "fusebox"
    }

    @discardableResult
    public static func run(
        _ arguments: [String],
        in directory: String,
        environment: [String: String] = [:]
    ) throws -> CLIResult {
        let process = try start(arguments, in: directory, environment: environment)
        let out = process.stdout.fileHandleForReading.readDataToEndOfFile()
        let err = process.stderr.fileHandleForReading.readDataToEndOfFile()
        process.process.waitUntilExit()
        return CLIResult(
            status: process.process.terminationStatus,
            stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self)
        )
    }

    /// Starts the binary without waiting (for concurrency and kill tests).
    public static func start(
        _ arguments: [String],
        in directory: String,
        environment: [String: String] = [:]
    ) throws -> (process: Process, stdout: Pipe, stderr: Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "FUSEBOX_DB")
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    /// Parses stdout as JSON.
    public static func json(_ result: CLIResult) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }
}

/// What a store holds, as digests, to check a failed command changed nothing. For a file: the
/// main file and write-ahead log as bytes (the `-shm` file is SQLite's shared-memory index, not
/// data, and is left out; an empty write-ahead log holds nothing — SQLite ignores it — and counts
/// as absent, since a read-only connection to a WAL store creates one and cannot remove it). For a
/// PostgreSQL database (`postgres://…`): ``PostgresTestServer/contentDigests(_:)``.
/// Digests, so a failed comparison prints something readable.
public func storeSnapshot(_ store: String) -> [String] {
    if store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") {
        return (try? PostgresTestServer.contentDigests(store)) ?? ["unreadable"]
    }
    return [store, store + "-wal"].map { file in
        let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int ?? 0
        return size == 0 ? "absent" : (try? SHA256Hex.ofFile(atPath: file)) ?? "unreadable"
    }
}
