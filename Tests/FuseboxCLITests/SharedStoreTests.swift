import Foundation
import FuseboxTestSupport
import FusionCore
import RegistryPostgres
import TensorCore
import TensorIO
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One store shared by a team: two `fusebox serve` processes on different ports and command-line
/// processes writing to it at once, on an SQLite file and on a PostgreSQL database alike.
@Suite(.serialized)
struct SharedStoreTests {
    /// The store's `--db` value, the folder the processes run in, and an admin token.
    struct Team {
        let db: String
        let dir: TemporaryDirectory
        let token: String

        init(db: String, dir: TemporaryDirectory) throws {
            self.db = db
            self.dir = dir
            let created = try FuseboxBinary.run(
                ["token", "create", "team", "--scope", "admin", "--db", db],
                in: dir.path
            )
            guard created.status == 0 else { throw ServeTests.ServeError(message: created.stderr) }
            token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Runs the binary on the store.
        func run(_ arguments: [String]) throws -> CLIResult {
            try FuseboxBinary.run(arguments + ["--db", db], in: dir.path)
        }

        /// Starts `fusebox serve` on the store, on a port of its own.
        func serve() throws -> ServeTests.Server { try ServeTests.Server(dir, arguments: ["--db", db]) }
    }

    /// A one-tensor safetensors file holding `value`: distinct values make distinct versions.
    static func weights(_ value: Float, at path: String) throws -> Data {
        try SafetensorsWriter.write([("w", Tensor(floats: [value], shape: [1]))], toPath: path)
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Runs blocking work (a child process waited for) on a thread of its own, so waiting never
    /// holds one of the few threads the concurrent HTTP clients run on.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Work started at once on a thread of its own, and waited for later: not on one of the few
    /// threads the tests' tasks share, which other tests waiting for child processes may hold
    /// for seconds (a request meant to be in flight would then be sent late).
    final class Background<T>: @unchecked Sendable {
        private var result: Result<T, any Error>?
        private let done = DispatchSemaphore(value: 0)

        init(_ body: @escaping @Sendable () throws -> T) {
            Thread { [self] in
                result = Result { try body() }
                done.signal()
            }.start()
        }

        func value() async throws -> T {
            try await SharedStoreTests.onThread { [self] in done.wait() }
            return try result!.get()
        }
    }

    /// Four writers register 250 versions each of one model at once — two through a server each,
    /// two as command-line processes — and the numbers are 1…1000, each given once, with no error.
    @Test(arguments: TestStore.available)
    func fourWritersThroughTwoServersAndTheCommandLineGetGaplessNumbers(_ store: TestStore) async throws {
        let dir = TemporaryDirectory()
        try await store.withStore(in: dir) { db in
            let team = try Team(db: db, dir: dir)
            let servers = try [team.serve(), team.serve()]
            defer { for server in servers { _ = server.stop() } }
            #expect(servers[0].port != servers[1].port)
            let perWriter = 250
            let numbers = try await withThrowingTaskGroup(of: [Int].self) { group in
                for writer in 0..<4 {
                    if writer < 2 {
                        group.addTask {
                            var mine: [Int] = []
                            for i in 0..<perWriter {
                                let body = try Self.weights(Float(writer * 1000 + i), at: dir.file("http\(writer).st"))
                                let response = try await servers[writer].request(
                                    "POST",
                                    "/api/v1/models/shared/versions",
                                    token: team.token,
                                    body: body
                                )
                                guard response.status == 201,
                                    let number = (response.json as? [String: Any])?["version"] as? Int
                                else { throw ServeTests.ServeError(message: "writer \(writer): \(response)") }
                                mine.append(number)
                            }
                            return mine
                        }
                    } else {
                        group.addTask {
                            try await Self.onThread {
                                var mine: [Int] = []
                                for i in 0..<perWriter {
                                    let file = "cli\(writer).safetensors"
                                    _ = try Self.weights(Float(writer * 1000 + i), at: dir.file(file))
                                    let registered = try team.run(
                                        ["register", "shared", "--weights", file, "--format", "json"]
                                    )
                                    guard registered.status == 0,
                                        let number = (try FuseboxBinary.json(registered) as? [String: Any])?["version"]
                                            as? Int
                                    else {
                                        throw ServeTests.ServeError(message: "writer \(writer): \(registered.stderr)")
                                    }
                                    mine.append(number)
                                }
                                return mine
                            }
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(numbers.count == 4 * perWriter)
            #expect(numbers.sorted() == Array(1...(4 * perWriter)), "gapless and unique")
            let listed = try #require(
                try FuseboxBinary.json(team.run(["versions", "shared", "--format", "json"])) as? [[String: Any]]
            )
            #expect(listed.compactMap { $0["version"] as? Int }.sorted() == Array(1...(4 * perWriter)))
            let verify = try team.run(["verify"])
            #expect(verify.status == 0 && !verify.stdout.contains("damaged"), "\(verify.stdout)\(verify.stderr)")
            for server in servers {
                let (status, log) = server.stop()
                #expect(status == 0, "\(log)")
            }
        }
    }

    /// A JSON body of `POST …/aliases/production/promote`: the candidate judged on the held-out
    /// split the command line's `--split test` reads.
    struct PromoteBody: Encodable {
        let version: Int
        let inputs: [String: [[Float]]]
        let labels: [Int]
        let require = "not-worse"
        let bootstrap = 200
    }

    /// Three promotions of different candidates to `production` at once — one through each server,
    /// one on the command line — all judged against the same baseline while the writers are held
    /// off: exactly one moves the alias, the other two are refused as stale, and the history
    /// holds one move.
    @Test(arguments: TestStore.available)
    func concurrentPromotionsThroughTwoServersAndTheCommandLineExactlyOneWins(_ store: TestStore) async throws {
        if store == .sqlite { try #require(WriterHold.canHoldSQLite, "python3's sqlite3 holds the lock") }
        let dir = TemporaryDirectory()
        try WorkflowTests.writeData(in: dir, samples: 1500)
        try await store.withStore(in: dir) { db in
            let team = try Team(db: db, dir: dir)
            // fuse@1 sees only text (weak); fuse@2…4 see image and text (strong).
            let trainings = [
                ["--modality", "text=text.npy", "--labels", "labels.npy"],
                ["--data", "data.safetensors", "--split", "train"],
                ["--data", "data.safetensors", "--split", "train", "--method", "log-linear"],
                ["--data", "data.safetensors", "--split", "train", "--method", "mean"],
            ]
            for training in trainings { #expect(try team.run(["train", "fuse"] + training).status == 0) }
            let testData = ["--data", "data.safetensors", "--split", "test", "--bootstrap", "200"]
            #expect(try team.run(["promote", "fuse@1"] + testData).status == 0)

            let (_, test) = try SyntheticData.imageText(samples: 1500, seed: 3)
            let inputs = try ["image", "text"].reduce(into: [String: [[Float]]]()) { inputs, name in
                let values = try #require(test.modality(name)).values
                inputs[name] = (0..<values.rows).map(values.row)
            }
            let bodies = try [2, 3].map {
                try JSONEncoder().encode(PromoteBody(version: $0, inputs: inputs, labels: test.labels))
            }
            let servers = try [team.serve(), team.serve()]
            defer { for server in servers { _ = server.stop() } }

            let hold = try await WriterHold(store, db, seconds: store == .sqlite ? 25 : 600)
            defer { hold.end() }
            let path = "/api/v1/models/fuse/aliases/production/promote"
            let first = Background { try servers[0].requestWaiting("POST", path, token: team.token, body: bodies[0]) }
            let second = Background { try servers[1].requestWaiting("POST", path, token: team.token, body: bodies[1]) }
            let cli = Background { try team.run(["promote", "fuse@4", "--require", "not-worse"] + testData) }
            try await hold.release(afterWaiters: 3)
            let responses = try await [first.value(), second.value()]
            let promoted = try await cli.value()
            let cliErrors = promoted.stderr

            func refusedAsStale(_ message: String) -> Bool {
                message.contains("moved from fuse@1 to fuse@")
                    && message.contains("while this promotion was being judged")
            }
            let httpWins = responses.filter { $0.status == 200 }.count
            let cliWins = promoted.status == 0 ? 1 : 0
            #expect(httpWins + cliWins == 1, "\(responses) CLI: \(cliErrors)")
            for response in responses where response.status != 200 {
                let message = ((response.json as? [String: Any])?["error"] as? [String: Any])?["message"] as? String
                #expect(response.status == 409 && refusedAsStale(message ?? ""), "\(response)")
            }
            if cliWins == 0 { #expect(refusedAsStale(cliErrors), "\(cliErrors)") }

            let events = try #require(
                try FuseboxBinary.json(team.run(["history", "fuse", "--format", "json"])) as? [[String: Any]]
            )
            #expect(events.count == 2, "set, then one move: \(events)")
            let aliases = try #require(
                try FuseboxBinary.json(team.run(["alias", "list", "fuse", "--format", "json"])) as? [[String: Any]]
            )
            let winner = aliases.first { $0["alias"] as? String == "production" }?["version"] as? Int
            #expect(events.first?["from"] as? Int == 1 && events.first?["to"] as? Int == winner)
            #expect([2, 3, 4].contains(winner ?? 0))
            let comparisons = try FuseboxBinary.json(
                team.run(["runs", "--where", "kind = 'comparison'", "--format", "json"])
            )
            #expect((comparisons as? [Any])?.count == 3, "every judgement is kept as evidence")
        }
    }
}

extension ServeTests.Server {
    /// One request, sent and waited for on the calling thread.
    func requestWaiting(_ method: String, _ path: String, token: String, body: Data) throws -> (status: Int, json: Any)
    {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 300
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        final class Answer: @unchecked Sendable {
            var data: Data?
            var status = 0
            var error: (any Error)?
        }
        let answer = Answer()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            answer.data = data
            answer.status = (response as? HTTPURLResponse)?.statusCode ?? 0
            answer.error = error
            done.signal()
        }.resume()
        done.wait()
        if let error = answer.error { throw error }
        let data = answer.data ?? Data()
        return (answer.status, data.isEmpty ? NSNull() : try JSONSerialization.jsonObject(with: data))
    }
}
