import Foundation
import FuseboxTestSupport
import Testing

/// The integrity promises, with real processes: readers never wait for or change the store, the
/// promotion gate decides, and two promotions at once cannot both pass against the same baseline.
@Suite(.serialized)
struct IntegrityCLITests {
    static let hasSQLite3Module = Python.hasModule("sqlite3")

    /// fuse@1 sees only text (weak), fuse@2 and fuse@3 image and text (strong); test data is held out.
    func threeVersions() throws -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        try WorkflowTests.writeData(in: dir, samples: 1500)
        _ = try ok(["train", "fuse", "--modality", "text=text.npy", "--labels", "labels.npy"], dir)
        _ = try ok(["train", "fuse", "--data", "data.safetensors", "--split", "train"], dir)
        _ = try ok(["train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "log-linear"], dir)
        return dir
    }

    static let testData = ["--data", "data.safetensors", "--split", "test", "--bootstrap", "200"]

    /// A Python process holding the store's write lock (an uncommitted `BEGIN IMMEDIATE`) for `seconds`.
    func holdWriteLock(_ store: String, seconds: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Python.executable))
        process.arguments = [
            "-c",
            """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            c.execute("BEGIN IMMEDIATE")
            c.execute("INSERT INTO metricKey (name) VALUES ('held')")
            print("locked", flush=True)
            time.sleep(\(seconds))
            c.execute("ROLLBACK")
            """,
            store,
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        try #require(line.contains("locked"), "the lock holder did not start: \(line)")
        return process
    }

    @Test(.enabled(if: hasSQLite3Module || isCI, "needs python3's sqlite3 module to hold a write lock"))
    func readCommandsNeitherWaitForAWriterNorChangeTheStore() throws {
        try #require(Self.hasSQLite3Module, "CI=true but python3's sqlite3 module is missing")
        let dir = try threeVersions()
        let store = dir.file("fusebox.sqlite")
        let reads = [
            ["models"], ["versions", "fuse"], ["show", "fuse@2"], ["history", "fuse"], ["runs"], ["runs", "show", "1"],
            ["weights", "fuse@2"],
            ["verify"], ["alias", "list", "fuse"],
            ["predict", "fuse@2", "--data", "data.safetensors", "--split", "test", "--format", "json"],
        ]
        let before = storeSnapshot(store)
        for arguments in reads { _ = try ok(arguments, dir) }
        #expect(storeSnapshot(store) == before, "a read command changed the store")
        // With another process holding the write lock for 60 s, every read still answers at once:
        // the holder is still holding it when they are done (before, each waited up to 30 s).
        let holder = try holdWriteLock(store, seconds: 60)
        defer { holder.terminate() }
        for arguments in reads { _ = try ok(arguments, dir) }
        #expect(holder.isRunning, "the reads waited for the writer")
    }

    @Test func theGateDecidesAndARefusalKeepsItsEvidence() throws {
        let dir = try threeVersions()
        // A first promotion needs no comparison.
        _ = try ok(["promote", "fuse@1"] + Self.testData, dir)
        // The strong model is significantly better than the weak one: promoted.
        let passed = try ok(["promote", "fuse@2", "--format", "json"] + Self.testData, dir)
        let outcome = try #require(try FuseboxBinary.json(passed) as? [String: Any])
        #expect(outcome["passed"] as? Bool == true && outcome["moved"] as? Bool == true)
        // Going back to the weak one is refused, under either gate: exit 1, alias unchanged,
        // the comparison recorded.
        for gate in [
            ["--require", "better"], ["--require", "not-worse", "--margin", "0.01"],
            ["--require", "not-worse", "--metric", "nll", "--margin", "0.05"],
        ] {
            let comparisonsBefore = try comparisonRuns(dir)
            let refused = try FuseboxBinary.run(["promote", "fuse@1"] + gate + Self.testData, in: dir.path)
            #expect(refused.status == 1, "\(gate): \(refused.stderr)")
            #expect(refused.stderr.contains("Not promoted: gate"), "\(refused.stderr)")
            #expect(try alias(dir) == 2)
            #expect(try comparisonRuns(dir) == comparisonsBefore + 1)
        }
        // A candidate judged on its own training data is refused unless asked for, and then recorded.
        let onTraining = try FuseboxBinary.run(
            ["promote", "fuse@3", "--data", "data.safetensors", "--split", "train", "--require", "not-worse"],
            in: dir.path
        )
        #expect(onTraining.status != 0 && onTraining.stderr.contains("fuse@2's training data"), "\(onTraining.stderr)")
        let history = try ok(["history", "fuse", "--format", "json"], dir)
        #expect(!history.stdout.contains("judged on data allowed to overlap training"))
        // Every event and run records who did it.
        let user = try #require(ProcessInfo.processInfo.environment["USER"] ?? Optional(NSUserName()))
        let events = try #require(try FuseboxBinary.json(history) as? [[String: Any]])
        #expect(events.allSatisfy { $0["principal"] as? String == user }, "\(events)")
    }

    @Test(.enabled(if: hasSQLite3Module || isCI, "needs python3's sqlite3 module to hold a write lock"))
    func twoConcurrentPromotionsCannotBothPassAgainstTheSameBaseline() throws {
        try #require(Self.hasSQLite3Module, "CI=true but python3's sqlite3 module is missing")
        let dir = try threeVersions()
        _ = try ok(["promote", "fuse@1"] + Self.testData, dir)
        // Both promotions read 'production' → fuse@1 while a third process holds the write lock,
        // so both judge against fuse@1 and both pass; then the lock goes and they race to move it.
        let holder = try holdWriteLock(dir.file("fusebox.sqlite"), seconds: 6)
        let promotions = try ["fuse@2", "fuse@3"].map { candidate in
            try FuseboxBinary.start(["promote", candidate, "--require", "not-worse"] + Self.testData, in: dir.path)
        }
        let results = promotions.map { p in
            let err = String(decoding: p.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.process.waitUntilExit()
            return (status: p.process.terminationStatus, stderr: err)
        }
        holder.waitUntilExit()
        #expect(results.map(\.status).sorted() == [0, 1], "\(results)")
        let loser = try #require(results.first { $0.status == 1 })
        #expect(
            loser.stderr.contains("moved from fuse@1 to fuse@")
                && loser.stderr.contains("while this promotion was being judged"),
            "\(loser.stderr)"
        )
        // The history is consistent: set → 1, then one move from 1 to the winner; both comparisons kept.
        let events = try #require(
            try FuseboxBinary.json(ok(["history", "fuse", "--format", "json"], dir)) as? [[String: Any]]
        )
        #expect(events.count == 2)
        let move = try #require(events.first)
        let winner = try alias(dir)
        #expect(move["from"] as? Int == 1 && move["to"] as? Int == winner)
        #expect(try comparisonRuns(dir) == 2)
    }

    @Test func deletedVersionsAndRunsFromTheCommandLine() throws {
        let dir = try threeVersions()
        _ = try ok(["alias", "set", "fuse", "production", "3"], dir)
        let refused = try FuseboxBinary.run(["delete", "fuse@3"], in: dir.path)
        #expect(refused.status != 0 && refused.stderr.contains("alias 'production'"), "\(refused.stderr)")
        _ = try ok(["delete", "fuse@3", "--force", "--reason", "trained on leaked data"], dir)
        let next = try ok(
            [
                "train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "mean", "--format",
                "json",
            ],
            dir
        )
        #expect((try FuseboxBinary.json(next) as? [String: Any])?["version"] as? Int == 4)
        let gone = try FuseboxBinary.run(["show", "fuse@3"], in: dir.path)
        #expect(
            gone.status != 0 && gone.stderr.contains("fuse@3 was deleted by")
                && gone.stderr.contains("trained on leaked data"),
            "\(gone.stderr)"
        )
        let history = try ok(["history", "fuse"], dir).stdout
        #expect(history.contains("deleted") && history.contains("trained on leaked data"))
        // A version's training run stays while the version lives; the deleted version's may go.
        let runOf3 = try #require(
            (try FuseboxBinary.json(ok(["runs", "--where", "version = 3", "--format", "json"], dir)) as? [[String: Any]])?
                .first?["id"] as? Int
        )
        _ = try ok(["runs", "delete", String(runOf3)], dir)
        let kept = try FuseboxBinary.run(["runs", "delete", "2"], in: dir.path)
        #expect(kept.status != 0 && kept.stderr.contains("it trained fuse@2"), "\(kept.stderr)")
        let gc = try ok(["gc", "--format", "json"], dir)
        let report = try #require(try FuseboxBinary.json(gc) as? [String: Any])
        #expect(report["runs"] as? Int == 1 && (report["blobs"] as? Int ?? 0) >= 1, "\(report)")
        _ = try ok(["verify"], dir)
    }

    @Test func outputFilesAreNeverOverwrittenWithoutForce() throws {
        let dir = try threeVersions()
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir.file("existing")))
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir.file("existing.csv")))
        for arguments in [
            ["weights", "fuse@2", "--svg", "existing"], ["runs", "show", "2", "--svg", "existing"],
            ["compare", "fuse@1", "fuse@2", "--html", "existing"] + Self.testData,
            ["predict", "fuse@2", "--data", "data.safetensors", "--split", "test", "-o", "existing.csv"],
            ["export", "fuse@2", "-o", "existing"],
            ["backup", "existing"],
        ] {
            let r = try FuseboxBinary.run(arguments, in: dir.path)
            #expect(
                r.status != 0 && r.stderr.contains("existing") && r.stderr.contains("--force"),
                "\(arguments): \(r.stderr)"
            )
            #expect(try String(contentsOfFile: dir.file("existing"), encoding: .utf8) == "keep")
            #expect(try String(contentsOfFile: dir.file("existing.csv"), encoding: .utf8) == "keep")
        }
        _ = try ok(["weights", "fuse@2", "--svg", "existing", "--force"], dir)
        #expect(try String(contentsOfFile: dir.file("existing"), encoding: .utf8).hasPrefix("<svg"))
        _ = try ok(["backup", "existing", "--force"], dir)
        let r = try FuseboxBinary.run(
            ["predict", "fuse@2", "--data", "data.safetensors", "--split", "test", "-o", "/nonexistent/preds.npy"],
            in: dir.path
        )
        #expect(
            r.status != 0 && r.stderr.contains("'/nonexistent/preds.npy'") && !r.stderr.contains(".tmp-"),
            "\(r.stderr)"
        )
    }

    func alias(_ dir: TemporaryDirectory) throws -> Int? {
        let list = try FuseboxBinary.json(ok(["alias", "list", "fuse", "--format", "json"], dir)) as? [[String: Any]]
        return list?.first { $0["alias"] as? String == "production" }?["version"] as? Int
    }

    func comparisonRuns(_ dir: TemporaryDirectory) throws -> Int {
        (try FuseboxBinary.json(ok(["runs", "--where", "kind = 'comparison'", "--format", "json"], dir)) as? [Any])?
            .count ?? -1
    }
}
