import Foundation
import FuseboxTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `fusebox serve` as a real process on loopback, spoken to over HTTP.
@Suite(.serialized)
struct ServeTests {
    /// A running `fusebox serve --port 0` and the port it bound.
    final class Server: @unchecked Sendable {
        let process: Process
        let port: Int
        let stderr: Pipe
        private(set) var log = ""

        init(_ dir: TemporaryDirectory, arguments: [String] = []) throws {
            let (process, _, stderr) = try FuseboxBinary.start(["serve", "--port", "0"] + arguments, in: dir.path)
            self.process = process
            self.stderr = stderr
            var text = ""
            var port: Int?
            while port == nil {
                let chunk = stderr.fileHandleForReading.availableData
                guard !chunk.isEmpty else { break }
                text += String(decoding: chunk, as: UTF8.self)
                if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Serving ") }),
                    let colon = line.lastIndex(of: ":")
                {
                    port = Int(line[line.index(after: colon)...].prefix { $0.isNumber })
                }
            }
            log = text
            guard let port else { throw ServeError(message: "the server did not start: \(text)") }
            self.port = port
        }

        /// Sends SIGTERM and waits; returns the exit status and everything it wrote to stderr.
        func stop() -> (status: Int32, log: String) {
            process.terminate()
            process.waitUntilExit()
            log += String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (process.terminationStatus, log)
        }

        /// One request; the status and the decoded JSON body.
        func request(
            _ method: String,
            _ path: String,
            token: String? = nil,
            body: Data? = nil
        ) async throws -> (status: Int, json: Any) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.httpBody = body
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as! HTTPURLResponse).statusCode
            // No body (204) reads as null.
            return (status, data.isEmpty ? NSNull() : try JSONSerialization.jsonObject(with: data))
        }
    }

    struct ServeError: Error { let message: String }

    /// fuse@1 and fuse@2 trained, `production` on 1, a read token and a revoked one.
    static func prepared() throws -> (TemporaryDirectory, read: String, revoked: String) {
        let dir = TemporaryDirectory()
        try WorkflowTests.writeData(in: dir, samples: 300)
        for _ in 0..<2 {
            _ = try ok(["train", "fuse", "--data", "data.safetensors", "--split", "train", "--epochs", "2"], dir)
        }
        _ = try ok(["alias", "set", "fuse@1", "production"], dir)
        let read = try ok(["token", "create", "reader", "--scope", "read"], dir).stdout.trimmingCharacters(
            in: .newlines
        )
        let revoked = try ok(["token", "create", "old", "--scope", "admin"], dir).stdout.trimmingCharacters(
            in: .newlines
        )
        _ = try ok(["token", "revoke", "old"], dir)
        return (dir, read, revoked)
    }

    func errorCode(_ json: Any) -> String? {
        ((json as? [String: Any])?["error"] as? [String: Any])?["code"] as? String
    }

    func errorMessage(_ json: Any) -> String {
        ((json as? [String: Any])?["error"] as? [String: Any])?["message"] as? String ?? ""
    }

    /// One row for each modality, as JSON.
    static let row = Data(
        #"{"inputs": {"image": [[0.9, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01]], "text": [[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]]}}"#
            .utf8
    )

    @Test func tokensGuardEveryRouteButHealthAndPredictionFollowsTheAliasLive() async throws {
        let (dir, token, revoked) = try Self.prepared()
        let server = try Server(dir)
        defer { _ = server.stop() }

        #expect(try await server.request("GET", "/healthz").status == 200)
        let none = try await server.request("GET", "/api/v1/models")
        #expect(none.status == 401 && errorCode(none.json) == "unauthenticated")
        let old = try await server.request("GET", "/api/v1/models", token: revoked)
        #expect(old.status == 401)
        let wrong = try await server.request("GET", "/api/v1/models", token: "fbx_" + String(repeating: "a", count: 64))
        #expect(wrong.status == 401)

        let models = try await server.request("GET", "/api/v1/models", token: token)
        #expect(models.status == 200)
        let listed = try #require(models.json as? [[String: Any]])
        #expect(listed.first?["model"] as? String == "fuse" && listed.first?["versions"] as? Int == 2)
        let version = try await server.request("GET", "/api/v1/models/fuse/versions/production", token: token)
        #expect((version.json as? [String: Any])?["version"] as? Int == 1)
        let versions = try await server.request("GET", "/api/v1/models/fuse/versions", token: token)
        #expect((versions.json as? [[String: Any]])?.compactMap { $0["version"] as? Int } == [2, 1])

        // Prediction by alias; a promotion by another process is served by the very next request.
        let body = Self.row
        let first = try await server.request(
            "POST",
            "/api/v1/models/fuse/versions/production/predict",
            token: token,
            body: body
        )
        #expect(first.status == 200, "\(first.json)")
        let answer = try #require(first.json as? [String: Any])
        #expect(answer["version"] as? Int == 1)
        let p = try #require((answer["probabilities"] as? [[Double]])?.first)
        #expect(p.count == 10 && abs(p.reduce(0, +) - 1) < 1e-4)
        #expect((answer["predictions"] as? [Int])?.count == 1)  // class indices: the data names no classes
        _ = try ok(["alias", "set", "fuse@2", "production"], dir)
        let second = try await server.request(
            "POST",
            "/api/v1/models/fuse/versions/production/predict",
            token: token,
            body: body
        )
        #expect((second.json as? [String: Any])?["version"] as? Int == 2)

        // A read token cannot write.
        let write = try await server.request(
            "PUT",
            "/api/v1/models/fuse/aliases/staging",
            token: token,
            body: Data("{}".utf8)
        )
        #expect(write.status == 403 && errorCode(write.json) == "forbidden")

        // Revoked by another process: refused by the very next request (nothing is cached past a commit).
        #expect(try await server.request("GET", "/api/v1/models", token: token).status == 200)
        _ = try ok(["token", "revoke", "reader"], dir)
        #expect(try await server.request("GET", "/api/v1/models", token: token).status == 401)

        let (status, log) = server.stop()
        #expect(status == 0, "\(log)")
        #expect(log.contains("GET /api/v1/models 401") && log.contains("GET /api/v1/models 200"), "\(log)")
        #expect(log.contains("token=reader") && log.contains("Stopped; the store is closed."))
    }

    /// Sixty-four requests from eight clients at once (predictions by alias, run searches, version
    /// pages, runs logged over HTTP) while a CLI process trains into the same store: every request
    /// is answered, the CLI's version lands, and the runs logged over HTTP are all there.
    @Test func severalClientsAtOnceWhileTheCLIWritesToTheStore() async throws {
        let (dir, read, _) = try Self.prepared()
        let write = try ok(["token", "create", "trainer", "--scope", "write"], dir).stdout.trimmingCharacters(
            in: .newlines
        )
        let server = try Server(dir)
        defer { _ = server.stop() }
        let training = try FuseboxBinary.start(
            ["train", "fuse", "--data", "data.safetensors", "--split", "train", "--epochs", "3"],
            in: dir.path
        )
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for client in 0..<8 {
                group.addTask {
                    var statuses: [Int] = []
                    for i in 0..<8 {
                        switch (client + i) % 4 {
                        case 0:
                            statuses.append(
                                try await server.request(
                                    "POST",
                                    "/api/v1/models/fuse/versions/production/predict",
                                    token: read,
                                    body: Self.row
                                ).status
                            )
                        case 1:
                            statuses.append(
                                try await server.request("GET", "/api/v1/runs?order_by=id%20desc&limit=5", token: read)
                                    .status
                            )
                        case 2:
                            statuses.append(
                                try await server.request("GET", "/api/v1/models/fuse/versions/latest", token: read)
                                    .status
                            )
                        default:
                            let created = try await server.request(
                                "POST",
                                "/api/v1/runs",
                                token: write,
                                body: Data(#"{"model": "fuse", "tags": {"client": "\#(client)"}}"#.utf8)
                            )
                            statuses.append(created.status)
                            let id = (created.json as? [String: Any])?["id"] as? Int ?? 0
                            statuses.append(
                                try await server.request(
                                    "POST",
                                    "/api/v1/runs/\(id)/metrics",
                                    token: write,
                                    body: Data(#"{"metrics": [{"key": "loss", "value": 0.5, "step": 1}]}"#.utf8)
                                ).status == 204 ? 200 : 500
                            )
                        }
                    }
                    return statuses
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        training.process.waitUntilExit()
        #expect(training.process.terminationStatus == 0)
        #expect(statuses.count == 80)
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 201 }, "\(statuses.filter { $0 >= 300 })")
        let versions = try await server.request("GET", "/api/v1/models/fuse/versions", token: read)
        #expect((versions.json as? [[String: Any]])?.count == 3)
        let logged = try await server.request(
            "GET",
            "/api/v1/runs?where=tags.client%20!%3D%20''&limit=100",
            token: read
        )
        #expect(((logged.json as? [String: Any])?["runs"] as? [Any])?.count == 16, "\(logged.json)")
    }

    @Test func badRequestsAreClearFourHundredsAndLeaveTheStoreUnchanged() async throws {
        let (dir, token, _) = try Self.prepared()
        let server = try Server(dir)
        defer { _ = server.stop() }
        let store = [dir.file("fusebox.sqlite"), dir.file("fusebox.sqlite-wal")]
        func bytes() -> [Data?] { store.map { FileManager.default.contents(atPath: $0) } }
        // One good request first, so the classifier is loaded and every page the server reads is read.
        let good = Self.row
        _ = try await server.request("POST", "/api/v1/models/fuse/versions/1/predict", token: token, body: good)
        let before = bytes()

        let predict = "/api/v1/models/fuse/versions/1/predict"
        let malformed = try await server.request("POST", predict, token: token, body: Data("{\"inputs\": ".utf8))
        #expect(malformed.status == 400 && errorCode(malformed.json) == "malformed_json", "\(malformed.json)")
        let shape = try JSONSerialization.data(withJSONObject: ["inputs": ["image": [[0.5, 0.5]]]])
        let narrow = try await server.request("POST", predict, token: token, body: shape)
        #expect(narrow.status == 422, "\(narrow.json)")
        #expect(errorMessage(narrow.json) == "Modality 'image' row 0 has 2 values; the model expects 10.")
        let unknownModality = try JSONSerialization.data(withJSONObject: ["inputs": ["audio": [[1.0]]]])
        let unknown = try await server.request("POST", predict, token: token, body: unknownModality)
        #expect(unknown.status == 422 && errorMessage(unknown.json).contains("no modality 'audio'"))
        let ragged = try JSONSerialization.data(
            withJSONObject: ["inputs": ["image": [[Double](repeating: 0.1, count: 10)], "text": [[Double]]()]]
        )
        #expect(try await server.request("POST", predict, token: token, body: ragged).status == 422)
        let missingModel = try await server.request("GET", "/api/v1/models/nope/versions/1", token: token)
        #expect(missingModel.status == 404 && errorCode(missingModel.json) == "notFound")
        let missingVersion = try await server.request(
            "POST",
            "/api/v1/models/fuse/versions/9/predict",
            token: token,
            body: good
        )
        #expect(missingVersion.status == 404)
        let huge = Data(repeating: UInt8(ascii: " "), count: 65 << 20)
        let tooLarge = try await server.request("POST", predict, token: token, body: huge)
        #expect(tooLarge.status == 413 && errorCode(tooLarge.json) == "too_large")

        #expect(bytes() == before)
        let (status, _) = server.stop()
        #expect(status == 0)
    }

    @Test func noAuthOnlyOnLoopback() throws {
        let dir = TemporaryDirectory()
        let refused = try FuseboxBinary.run(["serve", "--no-auth", "--host", "0.0.0.0"], in: dir.path)
        #expect(refused.status == 64 && refused.stderr.contains("--no-auth is allowed only on a loopback host"))
        let server = try Server(dir, arguments: ["--no-auth"])
        #expect(server.log.contains("WARNING: --no-auth"))
        let (status, _) = server.stop()
        #expect(status == 0)
    }
}
