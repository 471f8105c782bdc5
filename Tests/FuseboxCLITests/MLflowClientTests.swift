import Foundation
import FuseboxTestSupport
import GRDB
import Testing

/// MLflow's official client (from PyPI, in the virtual environment `.ci/run` makes) against
/// `fusebox serve` as a process: `scripts/mlflow-client-check.py` logs, searches, registers and
/// downloads through MLflow's public API only and asserts every value read back; then Fusebox's
/// own CLI sees the same store — the registered artifact exported byte for byte, the alias
/// moves in the history with the token's name, every digest intact.
struct MLflowClientTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test(.enabled(if: Python.mlflow != nil || isCI, "needs mlflow in .build/mlflow-venv (.ci/run installs it)"))
    func theOfficialClientLogsSearchesRegistersAndDownloads() throws {
        let python = try #require(Python.mlflow, "CI=true but mlflow is missing from .build/mlflow-venv")
        let dir = TemporaryDirectory()
        let token = try ok(["token", "create", "trainer", "--scope", "write"], dir).stdout.trimmingCharacters(
            in: .newlines
        )
        let server = try ServeTests.Server(dir)
        let script = try String(
            contentsOf: Self.root.appendingPathComponent("scripts/mlflow-client-check.py"),
            encoding: .utf8
        )
        let output: String
        do {
            output = try Python.run(
                script,
                arguments: [dir.file("client")],
                interpreter: python,
                environment: [
                    "MLFLOW_TRACKING_URI": "http://127.0.0.1:\(server.port)", "MLFLOW_TRACKING_TOKEN": token,
                    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
                ]
            )
        } catch {
            let (_, log) = server.stop()
            Issue.record("the MLflow client script failed: \(error)\nserver log:\n\(log.suffix(3000))")
            return
        }
        let (status, log) = server.stop()
        #expect(status == 0)
        #expect(output.contains("mlflow client: all checks passed"), "\(output)")
        #expect(!output.contains("FAIL"), "\(output)")
        #expect(!log.contains(" 500 "), "a request failed inside the server:\n\(log)")

        // The same store through Fusebox's CLI.
        _ = try ok(["export", "digits-cnn@1", "-o", "exported.safetensors"], dir)
        #expect(
            FileManager.default.contents(atPath: dir.file("exported.safetensors"))
                == FileManager.default.contents(atPath: dir.file("client/model/weights.safetensors"))
        )
        let history = try ok(["history", "digits-cnn", "--format", "json"], dir).stdout
        let events = try #require(try JSONSerialization.jsonObject(with: Data(history.utf8)) as? [[String: Any]])
        let moves = events.filter { ($0["alias"] as? String) == "production" }
        #expect(moves.map { $0["action"] as? String } == ["delete", "move", "set"], "\(history)")
        #expect(moves.allSatisfy { $0["principal"] as? String == "trainer" }, "\(history)")
        _ = try ok(["verify"], dir)
    }
}

/// `fusebox import mlflow` on a store MLflow itself wrote (`scripts/mlflow-import-check.py make`,
/// through MLflow's client on a `sqlite:///` URI), read back through MLflow's client from
/// `fusebox serve` (`… check`); importing again adds nothing; an unknown database is refused.
struct MLflowImportTests {
    @Test(.enabled(if: Python.mlflow != nil || isCI, "needs mlflow in .build/mlflow-venv (.ci/run installs it)"))
    func aStoreMLflowWroteArrivesWholeAndOnce() throws {
        let python = try #require(Python.mlflow, "CI=true but mlflow is missing from .build/mlflow-venv")
        let dir = TemporaryDirectory()
        let script = try String(
            contentsOf: MLflowClientTests.root.appendingPathComponent("scripts/mlflow-import-check.py"),
            encoding: .utf8
        )
        _ = try Python.run(script, arguments: ["make", dir.file("mlflow")], interpreter: python)

        let first = try ok(["import", "mlflow", dir.file("mlflow/mlflow.db"), "--format", "json"], dir).stdout
        let report = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect((report["runs"] as? [String: Int])?["imported"] == 5, "\(first)")
        #expect((report["versions"] as? [String: Int]) == ["imported": 2, "present": 0, "skipped": 1], "\(first)")
        #expect((report["aliases"] as? [String: Int])?["imported"] == 2, "\(first)")
        #expect(report["metric_values"] as? Int == 16)
        #expect(
            (report["notes"] as? [String])?.contains { $0.contains("text-pickle") && $0.contains("no .safetensors") }
                == true,
            "\(first)"
        )

        let again = try ok(["import", "mlflow", dir.file("mlflow/mlflow.db"), "--format", "json"], dir).stdout
        let second = try #require(try JSONSerialization.jsonObject(with: Data(again.utf8)) as? [String: Any])
        for kind in ["experiments", "runs", "models", "versions", "aliases"] {
            #expect((second[kind] as? [String: Int])?["imported"] == 0, "\(kind): \(again)")
        }
        #expect(second["artifacts"] as? Int == 0)

        let token = try ok(["token", "create", "reader", "--scope", "read"], dir).stdout.trimmingCharacters(
            in: .newlines
        )
        let server = try ServeTests.Server(dir)
        let output: String
        do {
            output = try Python.run(
                script,
                arguments: ["check", dir.file("mlflow")],
                interpreter: python,
                environment: [
                    "MLFLOW_TRACKING_URI": "http://127.0.0.1:\(server.port)", "MLFLOW_TRACKING_TOKEN": token,
                    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
                ]
            )
        } catch {
            let (_, log) = server.stop()
            Issue.record("the import check failed: \(error)\nserver log:\n\(log.suffix(3000))")
            return
        }
        _ = server.stop()
        #expect(output.contains("mlflow import: all checks passed"), "\(output)")
        _ = try ok(["verify"], dir)
    }

    @Test func aDatabaseItDoesNotUnderstandIsRefusedAndTheStoreUntouched() throws {
        let dir = TemporaryDirectory()
        _ = try ok(["init"], dir)
        let before = FileManager.default.contents(atPath: dir.file("fusebox.sqlite"))
        // A Fusebox store is an SQLite file, but not MLflow's.
        try FileManager.default.copyItem(atPath: dir.file("fusebox.sqlite"), toPath: dir.file("other.sqlite"))
        func fails(_ arguments: [String]) throws -> CLIResult {
            let r = try FuseboxBinary.run(arguments, in: dir.path)
            #expect(r.status != 0, "\(arguments) succeeded")
            return r
        }
        let refused = try fails(["import", "mlflow", "other.sqlite"])
        #expect(refused.stderr.contains("is not an MLflow tracking database"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        // An MLflow database from a version without a table the import reads.
        try DatabaseQueue(path: dir.file("old.db")).write { db in
            try db.execute(
                sql: """
                    CREATE TABLE alembic_version (version_num TEXT);
                    INSERT INTO alembic_version VALUES ('cfd24bdc0731');
                    CREATE TABLE experiments (experiment_id INTEGER, name TEXT, lifecycle_stage TEXT, creation_time INTEGER, last_update_time INTEGER);
                    """
            )
        }
        let tooOld = try fails(["import", "mlflow", "old.db"])
        #expect(tooOld.stderr.contains("Alembic revision cfd24bdc0731"), "\(tooOld.stderr)")
        let missing = try fails(["import", "mlflow", "nowhere.db"])
        #expect(missing.stderr.contains("no MLflow database"), "\(missing.stderr)")
        #expect(FileManager.default.contents(atPath: dir.file("fusebox.sqlite")) == before)
    }
}
