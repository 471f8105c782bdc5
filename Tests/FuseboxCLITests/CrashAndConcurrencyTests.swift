import Foundation
import FuseboxTestSupport
import TensorCore
import TensorIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Real processes: concurrent writers, and SIGKILL at random moments. Whatever happens, the store
/// passes `verify`, version numbers stay gapless, no version is half-written and no run stays
/// `running` once its process is gone.
@Suite(.serialized)
struct CrashAndConcurrencyTests {
    func writeComponent(_ path: String, floats: Int, seed: UInt64) throws {
        var rng = TestRandom(seed: seed)
        let a = Tensor(floats: (0..<floats).map { _ in Float.random(in: -1...1, using: &rng) }, shape: [floats])
        let b = Tensor(floats: [Float(seed), 1, 2], shape: [3])
        try SafetensorsWriter.write([("layer.weight", a), ("layer.bias", b)], toPath: path)
    }

    func versions(_ workspace: Workspace, _ model: String) throws -> [[String: Any]] {
        let r = try workspace.run(["versions", model, "--format", "json"])
        return (try? FuseboxBinary.json(r)) as? [[String: Any]] ?? []
    }

    @Test(arguments: TestStore.available)
    func fourWritersRegisterGaplessVersionsWhileReadersList(_ store: TestStore) async throws {
        try await store.withWorkspace { workspace in
            let dir = workspace.dir
            for i in 0..<4 { try writeComponent(dir.file("w\(i).safetensors"), floats: 1000, seed: UInt64(i)) }
            _ = try workspace.ok(["init"])
            let perWriter = 10
            // Each writer is a shell loop of real `fusebox register` processes; two readers list meanwhile.
            let binary = FuseboxBinary.path
            /// `command` run `times` times in a row by one shell, which stops at the first failure.
            func loop(_ times: Int, _ command: String) -> Process {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/bin/sh")
                p.arguments = ["-c", "for k in $(seq \(times)); do '\(binary)' \(command) >/dev/null || exit 1; done"]
                p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
                p.environment = ProcessInfo.processInfo.environment.merging(workspace.environment) { $1 }
                return p
            }
            let processes =
                (0..<4).map { i in loop(perWriter, "register shared --weights w\(i).safetensors") }
                + (0..<2).map { _ in loop(15, "models") }
            for p in processes { try p.run() }
            for p in processes { p.waitUntilExit() }
            #expect(processes.map(\.terminationStatus) == [0, 0, 0, 0, 0, 0])
            let numbers = try versions(workspace, "shared").compactMap { $0["version"] as? Int }
            #expect(numbers.sorted() == Array(1...(4 * perWriter)))
            _ = try workspace.ok(["verify"])
            // Dedup: 4 distinct files → 8 blobs, however many versions.
            let report = try FuseboxBinary.json(workspace.ok(["verify", "--format", "json"])) as? [String: Any]
            #expect(report?["blobs"] as? Int == 8)
        }
    }

    /// SIGKILL at random moments of registrations (16 MB, written in one transaction) and
    /// trainings. On SQLite the proof that a kill landed inside a write transaction is what it
    /// left (an object file no row names yet, or megabytes in the write-ahead log); on
    /// PostgreSQL it is the killed process holding the writers' advisory lock when killed.
    @Test(arguments: TestStore.available)
    func killNineDuringRegistrationAndTrainingLeavesNothingHalfWritten(_ store: TestStore) async throws {
        try await store.withWorkspace { workspace in
            let dir = workspace.dir
            try WorkflowTests.writeData(in: dir, samples: 4000)
            _ = try workspace.ok(["init"])
            var rng = TestRandom(seed: 99)
            var kills = 0
            var inside = 0
            var round = 0
            let objects = ObjectFolder(root: workspace.db + "-objects")
            func leftOnDisk() throws -> Int {
                let walSize = (try? FileManager.default.attributesOfItem(atPath: workspace.db + "-wal"))?[.size] as? Int
                return objects.temporaries().count + (try objects.digests().count) + ((walSize ?? 0) > 1 << 20 ? 1 : 0)
            }
            /// Whether any session of the database holds the writers' lock (only the command can).
            func writerLockHeld() throws -> Bool {
                try PostgresTestServer.psql(
                    workspace.db,
                    "SELECT count(*) FROM pg_locks WHERE \(WriterHold.lockRow) AND granted"
                )
                    != "0"
            }
            // Rounds continue until ten kills have landed on a running process (a fast machine
            // finishes some commands before their kill), at least one of them inside a write
            // transaction, within a bound. (A loaded CI machine once went 60 rounds, 17 kills,
            // without one inside: its registrations' transactions are short next to start-up.)
            while (kills < 10 || inside == 0) && round < 150 {
                defer { round += 1 }
                // A command that writes checkpoints and removes what a killed one left in the log.
                _ = try workspace.ok(["init"])
                let versionsBefore = try versions(workspace, "big").count
                let leftBefore = store == .sqlite ? try leftOnDisk() : 0
                // A fresh 16 MB file each round, so nothing deduplicates and the write takes time.
                let file = dir.file("big.safetensors")
                try writeComponent(file, floats: 4_000_000, seed: UInt64(100 + round))
                let arguments: [String] =
                    round % 3 == 2
                    ? [
                        "train", "trained", "--data", "data.safetensors", "--split", "train", "--method",
                        "concat-mlp", "--epochs", "400", "--hidden", "64",
                    ]
                    : ["register", "big", "--weights", "big.safetensors"]
                let started = try workspace.start(arguments)
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...250, using: &rng)))
                if started.process.isRunning {
                    let holding = store == .postgres && arguments[0] == "register" ? try writerLockHeld() : false
                    kill(started.process.processIdentifier, SIGKILL)
                    kills += 1
                    started.process.waitUntilExit()
                    // Proof the kill landed inside the registration's write transaction: no
                    // version appeared, and yet the transaction was under way.
                    let underWay = store == .sqlite ? try leftOnDisk() > leftBefore : holding
                    if arguments[0] == "register", underWay, try versions(workspace, "big").count == versionsBefore {
                        inside += 1
                    }
                }
                started.process.waitUntilExit()
            }
            #expect(kills >= 10, "only \(kills) processes were still running when killed")
            #expect(inside >= 1, "no kill landed inside a write transaction (\(kills) kills)")
            // Everything that exists is whole.
            let verify = try workspace.run(["verify"])
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
            #expect(verify.stdout.contains("integrity_check: ok"))
            for model in ["big", "trained"] {
                let list = try versions(workspace, model)
                let numbers = list.compactMap { $0["version"] as? Int }.sorted()
                #expect(numbers == Array(1...max(numbers.count, 1)).prefix(numbers.count).map { $0 })
                for n in numbers {
                    let show =
                        try FuseboxBinary.json(workspace.run(["show", "\(model)@\(n)", "--format", "json"]))
                        as? [String: Any]
                    let tensors = show?["tensors"] as? [[String: Any]] ?? []
                    #expect(
                        model == "big" ? tensors.count == 2 : tensors.count >= 4,
                        "\(model)@\(n) has \(tensors.count) tensors"
                    )
                }
            }
            // No run is left 'running' by a killed process once a command that writes has opened
            // the store (commands that only read never change it).
            _ = try workspace.ok(["init"])
            let running =
                try FuseboxBinary.json(workspace.run(["runs", "--where", "status = 'running'", "--format", "json"]))
                as? [Any]
            #expect(running?.isEmpty == true)
            #expect(try workspace.run(["gc", "--dry-run", "--format", "json"]).stdout.contains("\"blobs\" : 0"))
            // On SQLite the large tensors are objects; what killed writers left beside them
            // (objects no row names, temporary files) goes at gc, and the store stays whole.
            if store == .sqlite { #expect(try objects.digests().count >= 1) }
            _ = try workspace.ok(["gc"])
            if store == .sqlite { #expect(objects.temporaries().isEmpty) }
            let after = try FuseboxBinary.json(workspace.run(["verify", "--format", "json"])) as? [String: Any]
            #expect(
                after?["ok"] as? Bool == true && after?["unreferenced_objects"] as? Int ?? 0 == 0,
                "\(after ?? [:])"
            )
        }
    }

    /// The kill-during-upgrade suite itself (scripts/upgrade-kill-test.sh), CI-sized: ten SIGKILLs
    /// of a fusebox upgrading an older store, each leaving it wholly old or wholly new.
    static let hasShellTools = ["sqlite3", "python3"].allSatisfy { tool in
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }

    @Test(.enabled(if: hasShellTools || isCI, "needs the sqlite3 shell and python3 (.ci/run installs them)"))
    func killNineDuringAnUpgradeLeavesTheOldSchemaOrTheNew() throws {
        try #require(Self.hasShellTools, "CI=true but the sqlite3 shell or python3 is missing")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/bin/bash")
        script.arguments = [root.appendingPathComponent("scripts/upgrade-kill-test.sh").path, "10", FuseboxBinary.path]
        let out = Pipe()
        script.standardOutput = out
        script.standardError = out
        try script.run()
        let log = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        script.waitUntilExit()
        #expect(script.terminationStatus == 0, "\(log)")
        #expect(log.contains("PASS: 10 kills"), "\(log)")
    }
}
