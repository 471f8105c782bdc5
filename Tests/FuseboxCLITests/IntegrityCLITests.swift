import Foundation
import FuseboxTestSupport
import Testing

/// The integrity promises, with real processes, on a store file and on a PostgreSQL database:
/// readers never wait for or change the store, the promotion gate decides, and two promotions at
/// once cannot both pass against the same baseline.
@Suite(.serialized)
struct IntegrityCLITests {
    /// fuse@1 sees only text (weak), fuse@2 and fuse@3 image and text (strong); test data is held out.
    func threeVersions(_ workspace: Workspace) throws {
        try WorkflowTests.writeData(in: workspace.dir, samples: 1500)
        _ = try workspace.ok(["train", "fuse", "--modality", "text=text.npy", "--labels", "labels.npy"])
        _ = try workspace.ok(["train", "fuse", "--data", "data.safetensors", "--split", "train"])
        _ = try workspace.ok(
            ["train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "log-linear"]
        )
    }

    static let testData = ["--data", "data.safetensors", "--split", "test", "--bootstrap", "200"]

    @Test(
        .enabled(if: WriterHold.canHoldSQLite || isCI, "needs python3's sqlite3 module to hold a write lock"),
        arguments: TestStore.available
    )
    func readCommandsNeitherWaitForAWriterNorChangeTheStore(_ store: TestStore) async throws {
        if store == .sqlite { try #require(WriterHold.canHoldSQLite, "CI=true but python3's sqlite3 is missing") }
        try await store.withWorkspace { workspace in
            try threeVersions(workspace)
            let reads = [
                ["models"], ["versions", "fuse"], ["show", "fuse@2"], ["history", "fuse"], ["runs"],
                ["runs", "show", "1"], ["weights", "fuse@2"], ["verify"], ["alias", "list", "fuse"],
                ["predict", "fuse@2", "--data", "data.safetensors", "--split", "test", "--format", "json"],
            ]
            let before = workspace.snapshot()
            for arguments in reads { _ = try workspace.ok(arguments) }
            #expect(workspace.snapshot() == before, "a read command changed the store")
            // With another process holding the write lock for 60 s, every read still answers at
            // once: the holder is still holding it when they are done (before, each waited up to 30 s).
            let hold = try await WriterHold(store, workspace.db, seconds: 60)
            defer { hold.end() }
            for arguments in reads { _ = try workspace.ok(arguments) }
            #expect(hold.isHolding, "the reads waited for the writer")
        }
    }

    @Test(arguments: TestStore.available)
    func theGateDecidesAndARefusalKeepsItsEvidence(_ store: TestStore) async throws {
        try await store.withWorkspace { workspace in
            try threeVersions(workspace)
            // A first promotion needs no comparison.
            _ = try workspace.ok(["promote", "fuse@1"] + Self.testData)
            // The strong model is significantly better than the weak one: promoted.
            let passed = try workspace.ok(["promote", "fuse@2", "--format", "json"] + Self.testData)
            let outcome = try #require(try FuseboxBinary.json(passed) as? [String: Any])
            #expect(outcome["passed"] as? Bool == true && outcome["moved"] as? Bool == true)
            // Going back to the weak one is refused, under either gate: exit 1, alias unchanged,
            // the comparison recorded.
            for gate in [
                ["--require", "better"], ["--require", "not-worse", "--margin", "0.01"],
                ["--require", "not-worse", "--metric", "nll", "--margin", "0.05"],
            ] {
                let comparisonsBefore = try comparisonRuns(workspace)
                let refused = try workspace.run(["promote", "fuse@1"] + gate + Self.testData)
                #expect(refused.status == 1, "\(gate): \(refused.stderr)")
                #expect(refused.stderr.contains("Not promoted: gate"), "\(refused.stderr)")
                #expect(try alias(workspace) == 2)
                #expect(try comparisonRuns(workspace) == comparisonsBefore + 1)
            }
            // A candidate judged on its own training data is refused unless asked for, and then recorded.
            let onTraining = try workspace.run(
                ["promote", "fuse@3", "--data", "data.safetensors", "--split", "train", "--require", "not-worse"]
            )
            #expect(
                onTraining.status != 0 && onTraining.stderr.contains("fuse@2's training data"),
                "\(onTraining.stderr)"
            )
            let history = try workspace.ok(["history", "fuse", "--format", "json"])
            #expect(!history.stdout.contains("judged on data allowed to overlap training"))
            // Every event and run records who did it.
            let user = try #require(ProcessInfo.processInfo.environment["USER"] ?? Optional(NSUserName()))
            let events = try #require(try FuseboxBinary.json(history) as? [[String: Any]])
            #expect(events.allSatisfy { $0["principal"] as? String == user }, "\(events)")
        }
    }

    @Test(
        .enabled(if: WriterHold.canHoldSQLite || isCI, "needs python3's sqlite3 module to hold a write lock"),
        arguments: TestStore.available
    )
    func twoConcurrentPromotionsCannotBothPassAgainstTheSameBaseline(_ store: TestStore) async throws {
        if store == .sqlite { try #require(WriterHold.canHoldSQLite, "CI=true but python3's sqlite3 is missing") }
        try await store.withWorkspace { workspace in
            try threeVersions(workspace)
            _ = try workspace.ok(["promote", "fuse@1"] + Self.testData)
            // Both promotions read 'production' → fuse@1 while a third process holds the write
            // lock, so both judge against fuse@1 and both pass; then the lock goes and they race
            // to move it. (SQLite's hold ends after 6 s, when both are judged and waiting.)
            let hold = try await WriterHold(store, workspace.db, seconds: store == .sqlite ? 6 : 600)
            defer { hold.end() }
            let promotions = try ["fuse@2", "fuse@3"].map { candidate in
                try workspace.start(["promote", candidate, "--require", "not-worse"] + Self.testData)
            }
            try await hold.release(afterWaiters: 2)
            let results = promotions.map { p in
                let err = String(decoding: p.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                p.process.waitUntilExit()
                return (status: p.process.terminationStatus, stderr: err)
            }
            #expect(results.map(\.status).sorted() == [0, 1], "\(results)")
            let loser = try #require(results.first { $0.status == 1 })
            #expect(
                loser.stderr.contains("moved from fuse@1 to fuse@")
                    && loser.stderr.contains("while this promotion was being judged"),
                "\(loser.stderr)"
            )
            // The history is consistent: set → 1, then one move from 1 to the winner; both
            // comparisons kept.
            let events = try #require(
                try FuseboxBinary.json(workspace.ok(["history", "fuse", "--format", "json"])) as? [[String: Any]]
            )
            #expect(events.count == 2)
            let move = try #require(events.first)
            let winner = try alias(workspace)
            #expect(move["from"] as? Int == 1 && move["to"] as? Int == winner)
            #expect(try comparisonRuns(workspace) == 2)
        }
    }

    @Test(arguments: TestStore.available)
    func deletedVersionsAndRunsFromTheCommandLine(_ store: TestStore) async throws {
        try await store.withWorkspace { workspace in
            try threeVersions(workspace)
            _ = try workspace.ok(["alias", "set", "fuse", "production", "3"])
            let refused = try workspace.run(["delete", "fuse@3"])
            #expect(refused.status != 0 && refused.stderr.contains("alias 'production'"), "\(refused.stderr)")
            _ = try workspace.ok(["delete", "fuse@3", "--force", "--reason", "trained on leaked data"])
            let next = try workspace.ok(
                [
                    "train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "mean", "--format",
                    "json",
                ]
            )
            #expect((try FuseboxBinary.json(next) as? [String: Any])?["version"] as? Int == 4)
            let gone = try workspace.run(["show", "fuse@3"])
            #expect(
                gone.status != 0 && gone.stderr.contains("fuse@3 was deleted by")
                    && gone.stderr.contains("trained on leaked data"),
                "\(gone.stderr)"
            )
            let history = try workspace.ok(["history", "fuse"]).stdout
            #expect(history.contains("deleted") && history.contains("trained on leaked data"))
            // A version's training run stays while the version lives; the deleted version's may go.
            let runs = try FuseboxBinary.json(workspace.ok(["runs", "--where", "version = 3", "--format", "json"]))
            let runOf3 = try #require((runs as? [[String: Any]])?.first?["id"] as? Int)
            _ = try workspace.ok(["runs", "delete", String(runOf3)])
            let kept = try workspace.run(["runs", "delete", "2"])
            #expect(kept.status != 0 && kept.stderr.contains("it trained fuse@2"), "\(kept.stderr)")
            let gc = try workspace.ok(["gc", "--format", "json"])
            let report = try #require(try FuseboxBinary.json(gc) as? [String: Any])
            #expect(report["runs"] as? Int == 1 && (report["blobs"] as? Int ?? 0) >= 1, "\(report)")
            _ = try workspace.ok(["verify"])
        }
    }

    /// No command overwrites a file without `--force`. (`backup` is the store file's own: on
    /// PostgreSQL it is refused, naming pg_dump, whatever the file.)
    @Test(arguments: TestStore.available)
    func outputFilesAreNeverOverwrittenWithoutForce(_ store: TestStore) async throws {
        try await store.withWorkspace { workspace in
            try threeVersions(workspace)
            let dir = workspace.dir
            try Data("keep".utf8).write(to: URL(fileURLWithPath: dir.file("existing")))
            try Data("keep".utf8).write(to: URL(fileURLWithPath: dir.file("existing.csv")))
            let writers: [[String]] =
                [
                    ["weights", "fuse@2", "--svg", "existing"], ["runs", "show", "2", "--svg", "existing"],
                    ["compare", "fuse@1", "fuse@2", "--html", "existing"] + Self.testData,
                    ["predict", "fuse@2", "--data", "data.safetensors", "--split", "test", "-o", "existing.csv"],
                    ["export", "fuse@2", "-o", "existing"],
                ] + (store == .sqlite ? [["backup", "existing"]] : [])
            for arguments in writers {
                let r = try workspace.run(arguments)
                #expect(
                    r.status != 0 && r.stderr.contains("existing") && r.stderr.contains("--force"),
                    "\(arguments): \(r.stderr)"
                )
                #expect(try String(contentsOfFile: dir.file("existing"), encoding: .utf8) == "keep")
                #expect(try String(contentsOfFile: dir.file("existing.csv"), encoding: .utf8) == "keep")
            }
            _ = try workspace.ok(["weights", "fuse@2", "--svg", "existing", "--force"])
            #expect(try String(contentsOfFile: dir.file("existing"), encoding: .utf8).hasPrefix("<svg"))
            if store == .sqlite { _ = try workspace.ok(["backup", "existing", "--force"]) }
            let r = try workspace.run(
                ["predict", "fuse@2", "--data", "data.safetensors", "--split", "test", "-o", "/nonexistent/preds.npy"]
            )
            #expect(
                r.status != 0 && r.stderr.contains("'/nonexistent/preds.npy'") && !r.stderr.contains(".tmp-"),
                "\(r.stderr)"
            )
        }
    }

    func alias(_ workspace: Workspace) throws -> Int? {
        let list = try FuseboxBinary.json(workspace.ok(["alias", "list", "fuse", "--format", "json"]))
        return (list as? [[String: Any]])?.first { $0["alias"] as? String == "production" }?["version"] as? Int
    }

    func comparisonRuns(_ workspace: Workspace) throws -> Int {
        let runs = try FuseboxBinary.json(workspace.ok(["runs", "--where", "kind = 'comparison'", "--format", "json"]))
        return (runs as? [Any])?.count ?? -1
    }
}
