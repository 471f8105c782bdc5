import Foundation
import FuseboxServer
import FuseboxTestSupport
import FusionCore
import HTTPTypes
import RegistryStore
import TensorCore
import TensorIO
import Testing

/// Every route of `/api/v1` through a live server on loopback, over a real SQLite store.
@Suite struct APITests {
    /// `fused` with versions 1 (trusts text) and 2 (trusts image), `production` at 1.
    static func fusedModel(in store: ServedStore) async throws {
        try await store.registry.registerVersion(model: "fused", classifier: smallClassifier(weights: [0.2, 0.7]))
        try await store.registry.registerVersion(model: "fused", classifier: smallClassifier(weights: [0.7, 0.2]))
        try await store.registry.setAlias("production", model: "fused", version: 1)
    }

    /// `{"image": rows, "text": rows}` and labels of a small dataset.
    static func inputs(_ data: Dataset) -> (inputs: [String: [[Float]]], labels: [Int]) {
        var inputs: [String: [[Float]]] = [:]
        for m in data.modalities { inputs[m.name] = (0..<m.values.rows).map { m.values.row($0) } }
        guard case .classes(let labels) = data.targets else { return (inputs, []) }
        return (inputs, labels)
    }

    @Test func modelsVersionsUploadAndByteIdenticalDownload() async throws {
        let store = try await ServedStore()
        try await Self.fusedModel(in: store)
        let file = store.folder.file("fused-1.safetensors")
        try await store.registry.exportSafetensors(try VersionReference(parsing: "fused@1"), toPath: file)
        let upload = try readBytes(file)
        try await store.serve { api in
            let models = try await api.call(.get, "/api/v1/models", as: .read)
            #expect(models.status == 200)
            #expect(models.array.map { $0["model"] as? String } == ["fused"])
            let model = try await api.call(.get, "/api/v1/models/fused", as: .read)
            #expect(model.object["versions"] as? Int == 2)
            #expect((model.object["aliases"] as? [String: Int]) == ["production": 1])
            let versions = try await api.call(.get, "/api/v1/models/fused/versions", as: .read)
            #expect(versions.array.map { $0["version"] as? Int } == [2, 1])
            let production = try await api.call(.get, "/api/v1/models/fused/versions/production", as: .read)
            #expect(production.object["version"] as? Int == 1)
            #expect(production.object["method"] as? String == "weighted-average")

            let registered = try await api.call(
                .post,
                "/api/v1/models/camera/versions?sha256=\(SHA256Hex.of(upload))",
                as: .write,
                raw: upload
            )
            #expect(registered.status == 201, "\(registered.errorMessage)")
            #expect(registered.object["version"] as? Int == 1)
            #expect(registered.object["sha256"] as? String == SHA256Hex.of(upload))
            let shown = try await api.call(.get, "/api/v1/models/camera/versions/1", as: .read)
            #expect(shown.object["kind"] as? String == "component")
            #expect(shown.object["principal"] as? String == "writer")

            let download = try await api.call(.get, "/api/v1/models/camera/versions/latest/weights", as: .read)
            #expect(download.status == 200)
            #expect(download.bytes == upload)
            #expect(download.headers[.eTag] == "\"\(SHA256Hex.of(upload))\"")
            let cached = try await api.call(
                .get,
                "/api/v1/models/camera/versions/1/weights",
                as: .read,
                headers: [.ifNoneMatch: "\"\(SHA256Hex.of(upload))\""]
            )
            #expect(cached.status == 304)
            #expect(cached.bytes.isEmpty)

            let deleted = try await api.call(.delete, "/api/v1/models/camera/versions/1?reason=test", as: .admin)
            #expect(deleted.object["deleted"] as? String == "camera@1")
            let gone = try await api.call(.get, "/api/v1/models/camera/versions/1", as: .read)
            #expect(gone.status == 404)
            let tombstones = try await api.call(.get, "/api/v1/models/camera/versions?include_deleted=true", as: .read)
            #expect(tombstones.array.count == 1)
            let gc = try await api.call(.post, "/api/v1/gc", as: .admin)
            #expect(gc.object["dry_run"] as? Bool == false)
        }
    }

    @Test func predictionFollowsPromotionAndRollbackAtTheNextRequest() async throws {
        let store = try await ServedStore()
        try await Self.fusedModel(in: store)
        let (inputs, labels) = Self.inputs(try smallDataset(rows: 60))
        try await store.serve { api in
            func servedVersion() async throws -> Int? {
                let answer = try await api.call(
                    .post,
                    "/api/v1/models/fused/versions/production/predict",
                    as: .read,
                    json: ["inputs": ["image": [inputs["image"]![0]], "text": [inputs["text"]![0]]]]
                )
                #expect(answer.status == 200, "\(answer.errorMessage)")
                #expect((answer.object["probabilities"] as? [[Double]])?.first?.count == 3)
                return answer.object["version"] as? Int
            }
            #expect(try await servedVersion() == 1)
            let promoted = try await api.call(
                .post,
                "/api/v1/models/fused/aliases/production/promote",
                as: .write,
                json: [
                    "version": 2, "inputs": inputs, "labels": labels, "require": "not-worse", "margin": 1.0,
                    "bootstrap": 200,
                ]
            )
            #expect(promoted.status == 200, "\(promoted.errorMessage)")
            #expect(promoted.object["moved"] as? Bool == true)
            let comparison = try #require(promoted.object["comparison"] as? Int)
            #expect(try await servedVersion() == 2)

            let failing = try await api.call(
                .post,
                "/api/v1/models/fused/aliases/production/promote",
                as: .write,
                json: ["version": 1, "inputs": inputs, "labels": labels, "bootstrap": 200]
            )
            #expect(failing.status == 409)
            #expect(failing.object["moved"] as? Bool == false)
            #expect((failing.object["explanation"] as? String)?.contains("failed") == true)

            let rolled = try await api.call(
                .post,
                "/api/v1/models/fused/aliases/production/rollback",
                as: .write,
                json: ["reason": "pager"]
            )
            #expect(rolled.object["action"] as? String == "rollback")
            #expect(rolled.object["to"] as? Int == 1)
            #expect(try await servedVersion() == 1)

            let history = try await api.call(.get, "/api/v1/models/fused/history", as: .read)
            #expect(history.array.map { $0["action"] as? String } == ["rollback", "move", "set"])
            #expect(history.array[1]["comparison"] as? Int == comparison)
            #expect(history.array[0]["principal"] as? String == "writer")
            let moved = try await api.call(
                .put,
                "/api/v1/models/fused/aliases/staging",
                as: .write,
                json: ["version": 2]
            )
            #expect(moved.object["action"] as? String == "set")
            let aliases = try await api.call(.get, "/api/v1/models/fused/aliases", as: .read)
            #expect(Set(aliases.array.map { $0["alias"] as? String }) == ["production", "staging"])
            let removed = try await api.call(.delete, "/api/v1/models/fused/aliases/staging", as: .write)
            #expect(removed.object["action"] as? String == "delete")

            let report = try await api.call(.get, "/api/v1/comparisons/\(comparison)", as: .read)
            #expect(report.object["a"] as? String == "fused@1")
            #expect(report.object["b"] as? String == "fused@2")
            #expect((report.object["statistics"] as? [String: Any])?["sampleCount"] as? Int == 60)
            let comparisons = try await api.call(.get, "/api/v1/comparisons?model=fused", as: .read)
            #expect(comparisons.array.count == 2)
            let evaluations = try await api.call(.get, "/api/v1/evaluations?model=fused", as: .read)
            #expect(evaluations.array.count == 2)
            let evaluation = try await api.call(
                .get,
                "/api/v1/evaluations/\(evaluations.array[0]["id"] as! Int)",
                as: .read
            )
            #expect((evaluation.object["metrics"] as? [String: Double])?["accuracy"] != nil)
        }
    }

    @Test func runsAreLoggedSearchedAndPagedOverHTTP() async throws {
        let store = try await ServedStore()
        try await Self.fusedModel(in: store)
        try await store.serve { api in
            var ids: [Int] = []
            for lr in [0.1, 0.2, 0.3, 0.4, 0.5] {
                let created = try await api.call(
                    .post,
                    "/api/v1/runs",
                    as: .write,
                    json: ["model": "fused", "params": ["lr": lr, "optimizer": "adam"], "tags": ["team": "vision"]]
                )
                #expect(created.status == 201, "\(created.errorMessage)")
                let id = try #require(created.object["id"] as? Int)
                ids.append(id)
                let logged = try await api.call(
                    .post,
                    "/api/v1/runs/\(id)/metrics",
                    as: .write,
                    json: [
                        "metrics": [
                            ["key": "val_accuracy", "value": lr, "step": 0],
                            ["key": "val_accuracy", "value": lr + 0.01, "step": 1],
                        ]
                    ]
                )
                #expect(logged.status == 204, "\(logged.errorMessage)")
            }
            let run = ids[0]
            #expect(
                try await api.call(.post, "/api/v1/runs/\(run)/params", as: .write, json: ["params": ["seed": 7]])
                    .status == 204
            )
            let changed = try await api.call(
                .post,
                "/api/v1/runs/\(run)/params",
                as: .write,
                json: ["params": ["lr": 9]]
            )
            #expect(changed.status == 409)
            #expect(
                try await api.call(.post, "/api/v1/runs/\(run)/tags", as: .write, json: ["tags": ["note": "first"]])
                    .status == 204
            )
            let finished = try await api.call(.post, "/api/v1/runs/\(run)/finish", as: .write, json: [:])
            #expect(finished.object["status"] as? String == "finished")
            #expect(finished.object["principal"] as? String == "writer")
            #expect((finished.object["tags"] as? [String: String]) == ["team": "vision", "note": "first"])
            #expect((finished.object["params"] as? [String: String])?["seed"] == "7")
            let failed = try await api.call(
                .post,
                "/api/v1/runs/\(ids[1])/finish",
                as: .write,
                json: ["status": "failed", "reason": "out of memory"]
            )
            #expect(failed.object["failure"] as? String == "out of memory")

            let history = try await api.call(.get, "/api/v1/runs/\(run)/metrics/val_accuracy", as: .read)
            #expect(history.array.map { $0["step"] as? Int } == [0, 1])
            #expect(try await api.call(.get, "/api/v1/runs/\(run)/weights", as: .read).array.isEmpty)
            #expect(try await api.call(.get, "/api/v1/runs/\(run)", as: .read).object["id"] as? Int == run)

            let query = "where=params.lr%20%3E%3D%200.2&order_by=metrics.val_accuracy%20desc&limit=2"
            let first = try await api.call(.get, "/api/v1/runs?\(query)", as: .read)
            #expect(first.status == 200, "\(first.errorMessage)")
            let runs = first.object["runs"] as? [[String: Any]] ?? []
            #expect(runs.map { $0["id"] as? Int } == [ids[4], ids[3]])
            let token = try #require(first.object["next_page_token"] as? String)
            let second = try await api.call(.get, "/api/v1/runs?\(query)&page_token=\(token)", as: .read)
            #expect((second.object["runs"] as? [[String: Any]])?.map { $0["id"] as? Int } == [ids[2], ids[1]])
            #expect(second.object["next_page_token"] is NSNull)

            #expect(try await api.call(.delete, "/api/v1/runs/\(run)", as: .write).status == 403)
            #expect(try await api.call(.delete, "/api/v1/runs/\(run)", as: .admin).status == 204)
            #expect(try await api.call(.get, "/api/v1/runs/\(run)", as: .read).status == 404)
        }
    }

    @Test func tokensAreManagedByAdminsAndRevokedAtOnce() async throws {
        let store = try await ServedStore()
        try await store.serve { api in
            let created = try await api.call(
                .post,
                "/api/v1/tokens",
                as: .admin,
                json: ["name": "ci", "scope": "write"]
            )
            #expect(created.status == 201)
            let secret = try #require(created.object["token"] as? String)
            #expect(try await api.call(.get, "/api/v1/models", token: secret).status == 200)
            let listed = try await api.call(.get, "/api/v1/tokens", as: .admin)
            #expect(listed.array.contains { $0["name"] as? String == "ci" && $0["created_by"] as? String == "adminr" })
            #expect(!listed.bytes.contains(subsequence: Array(secret.utf8)))
            #expect(try await api.call(.delete, "/api/v1/tokens/ci", as: .admin).status == 204)
            #expect(try await api.call(.get, "/api/v1/models", token: secret).status == 401)
            let badScope = try await api.call(
                .post,
                "/api/v1/tokens",
                as: .admin,
                json: ["name": "x", "scope": "root"]
            )
            #expect(badScope.status == 400)
        }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<$0 + subsequence.count]) == subsequence }
    }
}
