import Foundation
import FuseboxServer
import FuseboxTestSupport
import HTTPTypes
import RegistryStore
import Testing

/// The MLflow layer's contract beyond what the official client exercises: MLflow's error shape
/// and codes for bad and unsupported requests (the store unchanged), scopes, and the translation
/// of MLflow filter strings into the query language, checked against the registry's own search.
@Suite struct MLflowAPITests {
    static let api = "/api/2.0/mlflow"

    @Test func badAndUnsupportedRequestsAnswerMLflowErrorsAndChangeNothing() async throws {
        let store = try await ServedStore()
        let run = try await store.registry.startRun(kind: .training, owner: .remote("test"))
        try await store.registry.logMetrics(run: run, [MetricPoint(key: "acc", step: 0, value: 0.5)])
        try await store.registry.createModel("m", kind: .component)
        let before = store.bytes()
        try await store.serve { api in
            func expect(
                _ status: Int,
                _ code: String,
                mentioning text: String,
                _ answer: APIResponse,
                sourceLocation: SourceLocation = #_sourceLocation
            ) {
                #expect(answer.status == status, "\(answer.object)", sourceLocation: sourceLocation)
                #expect(
                    answer.object["error_code"] as? String == code,
                    "\(answer.object)",
                    sourceLocation: sourceLocation
                )
                #expect(
                    (answer.object["message"] as? String ?? "").contains(text),
                    "\(answer.object)",
                    sourceLocation: sourceLocation
                )
            }
            let api2 = Self.api
            expect(
                404,
                "ENDPOINT_NOT_FOUND",
                mentioning: "traces",
                try await api.call(.post, "\(api2)/traces", as: .write, json: [:])
            )
            expect(
                404,
                "ENDPOINT_NOT_FOUND",
                mentioning: "does not implement",
                try await api.call(.get, "/ajax-api/2.0/mlflow/gateway/endpoints/list", as: .read)
            )
            expect(
                404,
                "RESOURCE_DOES_NOT_EXIST",
                mentioning: "999",
                try await api.call(.get, "\(api2)/runs/get?run_id=999", as: .read)
            )
            expect(
                404,
                "RESOURCE_DOES_NOT_EXIST",
                mentioning: "not found",
                try await api.call(.get, "\(api2)/runs/get?run_id=0123456789abcdef", as: .read)
            )
            expect(
                400,
                "INVALID_PARAMETER_VALUE",
                mentioning: "run_id",
                try await api.call(.post, "\(api2)/runs/log-metric", as: .write, json: ["key": "acc", "value": 1])
            )
            expect(
                400,
                "INVALID_PARAMETER_VALUE",
                mentioning: "AND",
                try await api.call(
                    .post,
                    "\(api2)/runs/search",
                    as: .read,
                    json: ["filter": "metrics.acc > 0.1 or metrics.acc < 0.2"]
                )
            )
            expect(
                400,
                "INVALID_PARAMETER_VALUE",
                mentioning: "unterminated",
                try await api.call(.post, "\(api2)/runs/search", as: .read, json: ["filter": "params.lr = 'x"])
            )
            expect(
                400,
                "INVALID_PARAMETER_VALUE",
                mentioning: "end_time",
                try await api.call(
                    .post,
                    "\(api2)/runs/search",
                    as: .read,
                    json: ["filter": "attributes.end_time > 5"]
                )
            )
            expect(
                400,
                "INVALID_PARAMETER_VALUE",
                mentioning: "finite",
                try await api.call(
                    .post,
                    "\(api2)/runs/log-batch",
                    as: .write,
                    raw: Array(#"{"run_id": "\#(run)", "metrics": [{"key": "acc", "value": "NaN", "step": 1}]}"#.utf8)
                )
            )
            expect(
                400,
                "INVALID_PARAMETER_VALUE",
                mentioning: "step",
                try await api.call(
                    .post,
                    "\(api2)/runs/log-metric",
                    as: .write,
                    json: ["run_id": "\(run)", "key": "acc", "value": 1, "step": -1, "timestamp": 0]
                )
            )
            expect(
                400,
                "MALFORMED_REQUEST",
                mentioning: "JSON",
                try await api.call(.post, "\(api2)/runs/set-tag", as: .write, raw: Array("{\"run_id\":".utf8))
            )
            expect(
                400,
                "INVALID_PARAMETER_VALUE",
                mentioning: "not valid",
                try await api.call(.put, "/api/2.0/mlflow-artifacts/artifacts/0/1/../../x", as: .write, raw: [1, 2])
            )
            expect(
                400,
                "INVALID_PARAMETER_VALUE",
                mentioning: "source",
                try await api.call(
                    .post,
                    "\(api2)/model-versions/create",
                    as: .write,
                    json: ["name": "m", "source": "s3://bucket/model"]
                )
            )
            expect(
                400,
                "INVALID_PARAMETER_VALUE",
                mentioning: "alias",
                try await api.call(.post, "\(api2)/model-versions/transition-stage", as: .write, json: ["name": "m"])
            )
            expect(
                401,
                "UNAUTHENTICATED",
                mentioning: "Bearer",
                try await api.call(.get, "\(api2)/experiments/search", as: nil)
            )
            expect(
                403,
                "PERMISSION_DENIED",
                mentioning: "needs write",
                try await api.call(.post, "\(api2)/experiments/create", as: .read, json: ["name": "x"])
            )
            // The UI's twin prefix answers the same.
            let twin = try await api.call(.get, "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0", as: .read)
            #expect(((twin.object["experiment"] as? [String: Any])?["name"] as? String) == "Default")
            expect(
                404,
                "ENDPOINT_NOT_FOUND",
                mentioning: "endpoint",
                try await api.call(.get, "/api/2.0/preview/mlflow/experiments/list", as: .read)
            )
            // MLflow's searches are POSTs that only read: a read token may make them.
            #expect(try await api.call(.post, "\(api2)/runs/search", as: .read, json: [:]).status == 200)
        }
        #expect(store.bytes() == before)
    }

    @Test func filterStringsMeanWhatTheQueryLanguageFinds() async throws {
        let store = try await ServedStore()
        let registry = store.registry
        let experiment = try await registry.createExperiment("e")
        var ids: [Int64] = []
        for (i, lr) in ["0.1", "0.01", "0.001"].enumerated() {
            let id = try await registry.startRun(
                kind: .training,
                params: ["lr": .text(lr)],
                tags: ["team": i < 2 ? "vision" : "text", "my key": "v"],
                owner: .remote("test"),
                experiment: experiment,
                name: "trial-\(i)"
            )
            try await registry.logMetrics(run: id, [MetricPoint(key: "val acc", step: 0, value: 0.5 + 0.1 * Double(i))])
            if i == 1 { try await registry.failRun(id, reason: "killed") } else { try await registry.finishRun(id) }
            ids.append(id)
        }
        let outsider = try await registry.startRun(kind: .training, owner: .remote("test"), name: "trial-0")
        try await registry.finishRun(outsider)
        try await store.serve { [ids] api in
            func search(
                _ filter: String,
                order: [String] = [],
                sourceLocation: SourceLocation = #_sourceLocation
            )
                async throws -> [Int64]
            {
                let answer = try await api.call(
                    .post,
                    "\(Self.api)/runs/search",
                    as: .read,
                    json: ["experiment_ids": ["\(experiment)"], "filter": filter, "order_by": order]
                )
                #expect(answer.status == 200, "\(filter): \(answer.object)", sourceLocation: sourceLocation)
                return (answer.object["runs"] as? [[String: Any]] ?? []).compactMap {
                    (($0["info"] as? [String: Any])?["run_id"] as? String).flatMap { Int64($0) }
                }
            }
            #expect(try await search("metrics.`val acc` >= 0.6") == [ids[2], ids[1]])
            #expect(try await search("metrics.\"val acc\" < 0.6 AND params.lr = '0.1'") == [ids[0]])
            #expect(try await search("tags.team = 'vision' and tags.`my key` = 'v'") == [ids[1], ids[0]])
            #expect(try await search("attributes.status = 'KILLED'") == [ids[1]])
            #expect(try await search("status != 'FINISHED'") == [ids[1]])
            #expect(try await search("attributes.run_name ILIKE 'TRIAL-%'").count == 3)
            #expect(try await search("attributes.run_id IN ('\(ids[0])', '\(ids[2])')") == [ids[2], ids[0]])
            #expect(try await search("tags.team != 'vision'") == [ids[2]])
            #expect(try await search("", order: ["metrics.`val acc` ASC"]) == ids)
            #expect(try await search("", order: ["attributes.run_name DESC"]) == ids.reversed())
            // The outsider lives in the Default experiment.
            let all = try await api.call(
                .post,
                "\(Self.api)/runs/search",
                as: .read,
                json: ["filter": "run_name = 'trial-0'"]
            )
            #expect((all.object["runs"] as? [Any])?.count == 2)
        }
    }
}
