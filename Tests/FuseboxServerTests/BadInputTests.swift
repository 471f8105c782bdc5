import Foundation
import FuseboxServer
import FuseboxTestSupport
import FusionCore
import HTTPTypes
import RegistryStore
import Testing

/// Bad requests get a 4xx with a clear message and leave the store's bytes unchanged.
@Suite struct APIBadInputTests {
    @Test func badRequestsAreClearAndChangeNothing() async throws {
        let store = try await ServedStore()
        try await APITests.fusedModel(in: store)
        let run = try await store.registry.startRun(kind: .training, model: "fused")
        let good = try smallClassifier()
        let width = good.spec.modalities[0].width
        let row = [Float](repeating: 0.3, count: width)
        let before = store.bytes()
        // Uploads are staged in a folder of this test's own: other tests' servers stage theirs in
        // the system's temporary folder at the same time.
        let staging = TemporaryDirectory("fusebox-staging")
        try await store.serve(limits: FuseboxServer.Limits(upload: 4096, temporaryDirectory: staging.path)) { api in
            func expect(
                _ status: Int,
                _ code: String,
                mentioning text: String,
                _ answer: APIResponse,
                sourceLocation: SourceLocation = #_sourceLocation
            ) {
                #expect(answer.status == status, "\(answer.errorMessage)", sourceLocation: sourceLocation)
                #expect(answer.errorCode == code, sourceLocation: sourceLocation)
                #expect(answer.errorMessage.contains(text), "\(answer.errorMessage)", sourceLocation: sourceLocation)
            }
            let predict = "/api/v1/models/fused/versions/production/predict"
            expect(
                400,
                "malformed_json",
                mentioning: "JSON",
                try await api.call(.post, predict, as: .read, raw: Array("{\"inputs\": ".utf8))
            )
            expect(
                400,
                "malformed_json",
                mentioning: "JSON",
                try await api.call(
                    .post,
                    predict,
                    as: .read,
                    raw: Array("{\"inputs\": {\"image\": [[NaN, 1, 2]]}}".utf8)
                )
            )
            expect(
                400,
                "malformed_json",
                mentioning: "inputs",
                try await api.call(.post, predict, as: .read, json: ["rows": []])
            )
            expect(
                400,
                "malformed_json",
                mentioning: "inputs",
                try await api.call(.post, predict, as: .read, json: ["inputs": ["image": "wide"]])
            )
            expect(
                422,
                "invalid_data",
                mentioning: "row 0 has 2 values",
                try await api.call(.post, predict, as: .read, json: ["inputs": ["image": [[0.5, 0.5]]]])
            )
            expect(
                422,
                "invalid_data",
                mentioning: "same number of rows",
                try await api.call(.post, predict, as: .read, json: ["inputs": ["image": [row], "text": [row, row]]])
            )
            expect(
                422,
                "invalid_data",
                mentioning: "no modality 'audio'",
                try await api.call(.post, predict, as: .read, json: ["inputs": ["audio": [row]]])
            )
            expect(
                404,
                "notFound",
                mentioning: "nomodel",
                try await api.call(
                    .post,
                    "/api/v1/models/nomodel/versions/1/predict",
                    as: .read,
                    json: ["inputs": ["image": [row]]]
                )
            )
            expect(
                404,
                "notFound",
                mentioning: "canary",
                try await api.call(
                    .post,
                    "/api/v1/models/fused/versions/canary/predict",
                    as: .read,
                    json: ["inputs": ["image": [row]]]
                )
            )
            expect(404, "notFound", mentioning: "run 4242", try await api.call(.get, "/api/v1/runs/4242", as: .read))
            expect(400, "invalid_id", mentioning: "not an id", try await api.call(.get, "/api/v1/runs/abc", as: .read))
            expect(
                400,
                "invalidInput",
                mentioning: "column 9",
                try await api.call(.get, "/api/v1/runs?where=metrics.%3D%3D", as: .read)
            )
            expect(
                400,
                "invalid_query",
                mentioning: "limit",
                try await api.call(.get, "/api/v1/runs?limit=0", as: .read)
            )
            let infinite = try await api.call(
                .post,
                "/api/v1/runs/\(run)/metrics",
                as: .write,
                raw: Array(#"{"metrics": [{"key": "loss", "value": 1e999}]}"#.utf8)
            )
            #expect(infinite.status == 400, "\(infinite.errorMessage)")
            expect(
                400,
                "invalidInput",
                mentioning: "steps",
                try await api.call(
                    .post,
                    "/api/v1/runs/\(run)/metrics",
                    as: .write,
                    json: ["metrics": [["key": "loss", "value": 1, "step": -1]]]
                )
            )
            expect(
                404,
                "notFound",
                mentioning: "version",
                try await api.call(.put, "/api/v1/models/fused/aliases/production", as: .write, json: ["version": 9])
            )
            let (inputs, labels) = APITests.inputs(try smallDataset(rows: 10))
            expect(
                422,
                "invalid_data",
                mentioning: "outside 0..<3",
                try await api.call(
                    .post,
                    "/api/v1/models/fused/aliases/production/promote",
                    as: .write,
                    json: ["version": 2, "inputs": inputs, "labels": labels.map { $0 + 5 }]
                )
            )
            expect(
                422,
                "invalid_data",
                mentioning: "'labels' has 3 values",
                try await api.call(
                    .post,
                    "/api/v1/models/fused/aliases/production/promote",
                    as: .write,
                    json: ["version": 2, "inputs": inputs, "labels": [0, 1, 2]]
                )
            )
            expect(
                400,
                "invalid_field",
                mentioning: "better, not-worse",
                try await api.call(
                    .post,
                    "/api/v1/models/fused/aliases/production/promote",
                    as: .write,
                    json: ["version": 2, "inputs": inputs, "labels": labels, "require": "best"]
                )
            )
            // Uploads: a lying file, a truncated one, one over the limit, a digest that does not match.
            expect(
                422,
                "invalid_file",
                mentioning: "The upload",
                try await api.call(
                    .post,
                    "/api/v1/models/cam/versions",
                    as: .write,
                    raw: [200, 0, 0, 0, 0, 0, 0, 0] + Array("{\"a\":1}".utf8)
                )
            )
            expect(
                422,
                "invalid_file",
                mentioning: "The upload",
                try await api.call(.post, "/api/v1/models/cam/versions", as: .write, raw: [8, 0, 0, 0])
            )
            expect(
                413,
                "too_large",
                mentioning: "4096 bytes",
                try await api.call(
                    .post,
                    "/api/v1/models/cam/versions",
                    as: .write,
                    raw: [UInt8](repeating: 7, count: 10_000)
                )
            )
            expect(
                422,
                "digest_mismatch",
                mentioning: "nothing was registered",
                try await api.call(.post, "/api/v1/models/cam/versions?sha256=abc", as: .write, raw: [8, 0, 0, 0])
            )
            expect(
                400,
                "invalidInput",
                mentioning: "name",
                try await api.call(.post, "/api/v1/models/bad%20name/versions", as: .write, raw: [8, 0, 0, 0])
            )
            // A JSON body over the limit is refused before it is read.
            let huge = [UInt8](repeating: 32, count: FuseboxServer.maxJSONBody + 1)
            expect(
                413,
                "too_large",
                mentioning: "larger than",
                try await api.call(.post, predict, as: .read, raw: huge)
            )
        }
        #expect(store.bytes() == before, "a refused request changed the store")
        let staged = try FileManager.default.contentsOfDirectory(atPath: staging.path)
        #expect(!staged.contains { $0.hasPrefix("fusebox-upload-") }, "an upload's staging file was left behind")
    }
}
