import Foundation

/// Runs Python snippets for interoperability tests (numpy, safetensors).
public enum Python {
    /// The interpreter, or `nil` when none is installed (tests then skip with a printed reason).
    public static let executable: String? = {
        for candidate in pathCandidates() + ["/usr/local/bin/python3", "/usr/bin/python3"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }()

    private static func pathCandidates() -> [String] {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
    }

    /// The interpreter of the virtual environment `.ci/run` installs MLflow's client into
    /// (`.build/mlflow-venv`, or `$FUSEBOX_MLFLOW_PYTHON`), when `import mlflow` works there.
    public static let mlflow: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [
            ProcessInfo.processInfo.environment["FUSEBOX_MLFLOW_PYTHON"],
            root.appendingPathComponent(".build/mlflow-venv/bin/python").path,
        ].compactMap { $0 }
        return candidates.first { candidate in
            FileManager.default.isExecutableFile(atPath: candidate)
                && (try? run("import mlflow", interpreter: candidate)) != nil
        }
    }()

    /// True when `import module` works.
    public static func hasModule(_ module: String) -> Bool {
        guard executable != nil else { return false }
        return (try? run("import \(module)")) != nil
    }

    /// Runs `script` with `python3 -c` and returns its standard output; throws on a non-zero exit.
    @discardableResult
    public static func run(
        _ script: String,
        arguments: [String] = [],
        interpreter: String? = nil,
        environment: [String: String] = [:]
    ) throws -> String {
        guard let executable = interpreter ?? executable else { throw PythonError(message: "python3 is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", script] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonError(message: String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }
}

public struct PythonError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
