import Foundation
import Hummingbird
import RegistryStore

/// MLflow's tracking API: experiments, runs, their metrics, params and tags, and run search
/// (MLflow's filter translated into Fusebox's query language). Registered under both
/// `/api/2.0/mlflow` and `/ajax-api/2.0/mlflow`.
struct MLflowTrackingRoutes {
    let registry: Registry

    typealias Handler = @Sendable (MLflowArguments, ServerContext) async throws -> any Encodable

    func add(to group: RouterGroup<ServerContext>) {
        func route(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
            group.on(RouterPath(path), method: method) { request, context in
                try Response.json(AnyEncodable(try await handler(MLflowArguments.of(request), context)))
            }
        }
        route(.post, "experiments/create", createExperiment)
        route(.get, "experiments/get") { args, _ in
            ["experiment": MLflowJSON.Experiment(try await registry.experiment(try experimentId(args)))]
        }
        route(.get, "experiments/get-by-name") { args, _ in
            [
                "experiment": MLflowJSON.Experiment(
                    try await registry.experiment(named: try args.require("experiment_name"))
                )
            ]
        }
        route(.post, "experiments/search", searchExperiments)
        route(.get, "experiments/search", searchExperiments)
        route(.post, "experiments/update") { args, context in
            try await context.acting(registry).renameExperiment(
                try experimentId(args),
                to: try args.require("new_name")
            )
            return Empty()
        }
        route(.post, "experiments/delete") { args, context in
            try await context.acting(registry).deleteExperiment(try experimentId(args))
            return Empty()
        }
        route(.post, "experiments/restore") { args, context in
            try await context.acting(registry).restoreExperiment(try experimentId(args))
            return Empty()
        }
        route(.post, "experiments/set-experiment-tag") { args, context in
            try await context.acting(registry).setExperimentTag(
                try experimentId(args),
                key: try args.require("key"),
                value: args.string("value") ?? ""
            )
            return Empty()
        }
        route(.post, "experiments/delete-experiment-tag") { args, context in
            try await context.acting(registry).setExperimentTag(
                try experimentId(args),
                key: try args.require("key"),
                value: nil
            )
            return Empty()
        }
        route(.post, "runs/create", createRun)
        route(.get, "runs/get") { args, _ in
            ["run": MLflowJSON.Run(try await run(try runId(args)))]
        }
        route(.post, "runs/update", updateRun)
        route(.post, "runs/delete") { args, context in
            try await context.acting(registry).deleteRun(try await runId(args))
            return Empty()
        }
        route(.post, "runs/restore") { args, context in
            try await context.acting(registry).restoreRun(try await runId(args))
            return Empty()
        }
        route(.post, "runs/search", searchRuns)
        route(.post, "runs/log-metric") { args, context in
            try await context.acting(registry).logMetrics(run: try await runId(args), [try metric(args)])
            return Empty()
        }
        route(.post, "runs/log-parameter") { args, context in
            try await context.acting(registry).logParams(
                run: try await runId(args),
                [try args.require("key"): .text(args.string("value") ?? "")]
            )
            return Empty()
        }
        route(.post, "runs/set-tag") { args, context in
            let id = try await runId(args)
            let key = try args.require("key")
            let value = args.string("value") ?? ""
            if key == "mlflow.runName" {
                try await context.acting(registry).renameRun(id, to: value)
            } else {
                try await context.acting(registry).setTags(run: id, [key: value])
            }
            return Empty()
        }
        route(.post, "runs/delete-tag") { args, context in
            try await context.acting(registry).deleteTag(run: try await runId(args), key: try args.require("key"))
            return Empty()
        }
        route(.post, "runs/log-batch", logBatch)
        route(.get, "metrics/get-history", metricHistory)
        // MLflow 3's logged models do not exist here; the client searches them while resolving
        // `runs:/` URIs, and finds none (creating one is ENDPOINT_NOT_FOUND).
        route(.post, "logged-models/search") { args, _ in
            _ = try pageOffset(args)
            return ["models": [String]()]
        }
    }

    struct Empty: Encodable {}

    // MARK: - Experiments

    @Sendable func createExperiment(_ args: MLflowArguments, context: ServerContext) async throws -> any Encodable {
        if let location = args.string("artifact_location"), !location.isEmpty {
            throw MLflowError.invalid(
                "Fusebox stores artifacts itself (content-addressed, in the store); leave artifact_location unset, got '\(location)'."
            )
        }
        let tags = try args.pairs("tags")
        let id = try await context.acting(registry).createExperiment(
            try args.require("name"),
            tags: Dictionary(tags, uniquingKeysWith: { _, last in last })
        )
        return ["experiment_id": String(id)]
    }

    struct ExperimentPage: Encodable {
        let experiments: [MLflowJSON.Experiment]
        let next_page_token: String?
    }

    @Sendable func searchExperiments(_ args: MLflowArguments, context: ServerContext) async throws -> any Encodable {
        let filter = try MLflowFilter(args.string("filter"))
        try filter.require(
            attributes: ["name", "experiment_id", "creation_time", "last_update_time"],
            tags: true,
            what: "experiments"
        )
        var found = try await registry.experiments(try lifecycle(args, key: "view_type")).filter {
            filter.matches(
                attributes: [
                    "name": $0.name, "experiment_id": String($0.id),
                    "creation_time": String(MLflowJSON.milliseconds($0.createdAt)),
                    "last_update_time": String(MLflowJSON.milliseconds($0.updatedAt)),
                ],
                tags: $0.tags
            )
        }
        if let order = args.strings("order_by").first {
            let parts = order.split(separator: " ").map { $0.lowercased() }
            let descending = parts.count > 1 && parts[1] == "desc"
            let field = parts[0].replacingOccurrences(of: "attributes.", with: "")
            let key: (Experiment) -> String
            switch field {
            case "name": key = { $0.name }
            case "experiment_id": key = { String(format: "%020lld", $0.id) }
            case "creation_time": key = { String(format: "%020.3f", $0.createdAt) }
            case "last_update_time": key = { String(format: "%020.3f", $0.updatedAt) }
            default: throw MLflowError.invalid("Invalid order_by field '\(field)' for experiments.")
            }
            found.sort { descending ? key($0) > key($1) : key($0) < key($1) }
        } else {
            found.sort { $0.createdAt == $1.createdAt ? $0.id > $1.id : $0.createdAt > $1.createdAt }
        }
        let (page, next) = try paginate(found, args, maximum: 50_000, fallback: 1000)
        return ExperimentPage(experiments: page.map(MLflowJSON.Experiment.init), next_page_token: next)
    }

    // MARK: - Runs

    @Sendable func createRun(_ args: MLflowArguments, context: ServerContext) async throws -> any Encodable {
        var tags = Dictionary(try args.pairs("tags"), uniquingKeysWith: { _, last in last })
        let tagName = tags.removeValue(forKey: "mlflow.runName")
        let name = args.string("run_name").flatMap { $0.isEmpty ? nil : $0 } ?? tagName
        let experiment = try args.int64("experiment_id") ?? 0
        let id = try await context.acting(registry).startRun(
            kind: .training,
            tags: tags,
            owner: .remote("mlflow \(context.token?.name ?? "no-auth")"),
            experiment: experiment,
            name: name
        )
        return ["run": MLflowJSON.Run(try await run(id))]
    }

    @Sendable func updateRun(_ args: MLflowArguments, context: ServerContext) async throws -> any Encodable {
        let id = try await runId(args)
        let acting = context.acting(registry)
        if let name = args.string("run_name"), !name.isEmpty { try await acting.renameRun(id, to: name) }
        let current = try await run(id)
        if let status = args.string("status"), status != MLflowJSON.status(current) {
            guard current.status == .running else {
                throw MLflowError(
                    code: "INVALID_STATE",
                    message:
                        "Run \(id) has ended (\(MLflowJSON.status(current))); its status cannot change to \(status).",
                    status: .badRequest
                )
            }
            switch status {
            case "FINISHED": try await acting.finishRun(id)
            case "FAILED": try await acting.failRun(id, reason: "failed")
            case "KILLED": try await acting.failRun(id, reason: MLflowJSON.killed)
            case "RUNNING", "SCHEDULED": break
            default: throw MLflowError.invalid("Unknown run status '\(status)'.")
            }
        }
        return ["run_info": MLflowJSON.RunInfo(try await run(id))]
    }

    struct RunPage: Encodable {
        let runs: [MLflowJSON.Run]
        let next_page_token: String?
    }

    @Sendable func searchRuns(_ args: MLflowArguments, context: ServerContext) async throws -> any Encodable {
        let experiments = try args.strings("experiment_ids").map { text in
            guard let id = Int64(text) else { throw MLflowError.invalid("'\(text)' is not an experiment id.") }
            return id
        }
        let query = try MLflowFilter(args.string("filter")).runQuery(experiments: experiments)
        let limit = Int(try args.int64("max_results") ?? 1000)
        guard (1...50_000).contains(limit) else {
            throw MLflowError.invalid("max_results must be between 1 and 50000, got \(limit).")
        }
        let offset = try pageOffset(args)
        let found = try await registry.searchRuns(
            where: query,
            orderBy: try MLflowFilter.runOrder(args.strings("order_by")),
            limit: limit + 1,
            offset: offset,
            lifecycle: try lifecycle(args, key: "run_view_type")
        )
        return RunPage(
            runs: found.prefix(limit).map(MLflowJSON.Run.init),
            next_page_token: found.count > limit ? String(offset + limit) : nil
        )
    }

    @Sendable func logBatch(_ args: MLflowArguments, context: ServerContext) async throws -> any Encodable {
        let id = try await runId(args)
        var tags = Dictionary(try args.pairs("tags"), uniquingKeysWith: { _, last in last })
        if let name = tags.removeValue(forKey: "mlflow.runName") {
            try await context.acting(registry).renameRun(id, to: name)
        }
        var params: [String: ParamValue] = [:]
        for (key, value) in try args.pairs("params") {
            if let earlier = params[key], earlier.description != value {
                throw MLflowError.invalid("Param '\(key)' appears twice in the batch with different values.")
            }
            params[key] = .text(value)
        }
        try await context.acting(registry).logBatch(
            run: id,
            metrics: try args.objects("metrics").map(metric),
            params: params,
            tags: tags
        )
        return Empty()
    }

    struct History: Encodable {
        let metrics: [MLflowJSON.Metric]
        let next_page_token: String?
    }

    @Sendable func metricHistory(_ args: MLflowArguments, context: ServerContext) async throws -> any Encodable {
        let key = try args.require("metric_key")
        let points = try await registry.metricHistory(run: try await runId(args), key: key)
        let (page, next) = try paginate(points, args, maximum: 1_000_000, fallback: 1_000_000)
        return History(
            metrics: page.map { .init(key: key, value: $0.value, timestamp: $0.time, step: Int64($0.step)) },
            next_page_token: next
        )
    }

    // MARK: - Arguments

    func experimentId(_ args: MLflowArguments) throws -> Int64 {
        let text = try args.require("experiment_id")
        guard let id = Int64(text) else { throw MLflowError.notFound("There is no experiment '\(text)'.") }
        return id
    }

    /// A run id: Fusebox's number, or the MLflow id of an imported run.
    func runId(_ args: MLflowArguments) async throws -> Int64 {
        let text = args.string("run_id") ?? args.string("run_uuid") ?? ""
        guard !text.isEmpty else { throw MLflowError.invalid("Missing value for required parameter 'run_id'.") }
        return try await MLflowRunIds.resolve(text, in: registry)
    }

    /// A run, deleted or not (MLflow's `get-run` shows deleted runs with their lifecycle stage).
    func run(_ id: Int64) async throws -> RunSummary {
        guard let found = try await registry.searchRuns(where: "id = \(id)", limit: 1, lifecycle: .all).first else {
            throw MLflowError.notFound("Run with id=\(id) not found")
        }
        return found
    }

    func metric(_ args: MLflowArguments) throws -> MetricPoint {
        guard let value = try args.double("value") else {
            throw MLflowError.invalid("Missing value for required parameter 'value'.")
        }
        let step = try args.int64("step") ?? 0
        guard let step = Int(exactly: step) else { throw MLflowError.invalid("step \(step) is out of range.") }
        return MetricPoint(
            key: try args.require("key"),
            step: step,
            value: value,
            time: try args.int64("timestamp") ?? MetricPoint.now()
        )
    }
}

/// MLflow's `ViewType`: ACTIVE_ONLY (1, the default), DELETED_ONLY (2), ALL (3).
func lifecycle(_ args: MLflowArguments, key: String) throws -> RunLifecycle {
    switch args.string(key) ?? "ACTIVE_ONLY" {
    case "ACTIVE_ONLY", "1": .active
    case "DELETED_ONLY", "2": .deleted
    case "ALL", "3": .all
    case let other: throw MLflowError.invalid("Unknown \(key) '\(other)'; use ACTIVE_ONLY, DELETED_ONLY or ALL.")
    }
}

/// The offset a page token stands for (tokens are the offset of the next page, as text).
func pageOffset(_ args: MLflowArguments) throws -> Int {
    guard let token = args.string("page_token"), !token.isEmpty else { return 0 }
    guard let offset = Int(token), offset >= 0 else { throw MLflowError.invalid("Invalid page_token '\(token)'.") }
    return offset
}

/// One page of `items` by `max_results` and `page_token`, and the next page's token.
func paginate<T>(_ items: [T], _ args: MLflowArguments, maximum: Int, fallback: Int) throws -> ([T], String?) {
    let limit = Int(try args.int64("max_results") ?? Int64(fallback))
    guard (1...maximum).contains(limit) else {
        throw MLflowError.invalid("max_results must be between 1 and \(maximum), got \(limit).")
    }
    let offset = try pageOffset(args)
    let page = Array(items.dropFirst(offset).prefix(limit))
    return (page, offset + limit < items.count ? String(offset + limit) : nil)
}

/// Run ids as MLflow's client sends them: Fusebox's number, or the id an imported run had in MLflow.
enum MLflowRunIds {
    static func resolve(_ text: String, in registry: Registry) async throws -> Int64 {
        if let id = Int64(text), id > 0 { return id }
        do { return try await registry.runId(external: text) } catch {
            throw MLflowError.notFound("Run with id=\(text) not found")
        }
    }
}

/// Lets routes return any `Encodable`.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
