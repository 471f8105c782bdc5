import Hummingbird
import RegistryJSON
import RegistryStore

/// Runs: create, log metrics (a batch), params, tags, finish; search with the query language and
/// paging; one run, a metric's history, the fusion weights per epoch.
struct RunRoutes {
    let registry: Registry

    /// A page of a run search: the runs and, when there are more, the token of the next page.
    struct RunPage: Encodable {
        let runs: [RunJSON]
        @NullEncoded var next_page_token: String?
    }

    struct CreatedRun: Encodable {
        let id: Int64
    }

    func add(to api: RouterGroup<ServerContext>) {
        api.post("runs") { request, context in
            let body = try await request.decode(as: RunCreateRequest.self, context: context)
            let version = try body.version.map { text in
                try VersionReference(parsing: text.contains("@") ? text : "\(body.model ?? "")@\(text)")
            }
            let id = try await context.acting(registry).startRun(
                kind: .training,
                model: body.model,
                version: version,
                params: body.params?.mapValues(\.value) ?? [:],
                tags: body.tags ?? [:],
                owner: .remote("http \(context.token?.name ?? "no-auth")")
            )
            return try Response.json(CreatedRun(id: id), status: .created)
        }
        api.get("runs") { request, _ in
            let limit = try request.query("limit", in: 1...10_000, default: 100)
            let offset = try request.query("page_token", in: 0...1_000_000, default: 0)
            // One more than asked tells whether there is a next page.
            let found = try await registry.searchRuns(
                model: request.query("model"),
                where: request.query("where"),
                orderBy: request.query("order_by"),
                limit: offset + limit + 1
            )
            let page = found.dropFirst(offset).prefix(limit)
            return try Response.json(
                RunPage(
                    runs: page.map(RunJSON.init),
                    next_page_token: found.count > offset + limit ? String(offset + limit) : nil
                )
            )
        }
        api.get("runs/:id") { _, context in try Response.json(RunJSON(try await registry.run(context.id("id")))) }
        api.get("runs/:id/metrics/:key") { _, context in
            let id = try context.id("id")
            _ = try await registry.run(id)
            let points = try await registry.metricHistory(run: id, key: context.parameters.require("key"))
            return try Response.json(points.map(MetricPointJSON.init))
        }
        api.get("runs/:id/weights") { _, context in
            try Response.json(try await registry.fusionWeightHistory(run: context.id("id")).map(WeightPointJSON.init))
        }
        api.post("runs/:id/metrics") { request, context in
            let body = try await request.decode(as: MetricsRequest.self, context: context)
            let now = MetricPoint.now()
            try await context.acting(registry).logMetrics(
                run: context.id("id"),
                body.metrics.map { MetricPoint(key: $0.key, step: $0.step ?? 0, value: $0.value, time: $0.time ?? now) }
            )
            return Response(status: .noContent)
        }
        api.post("runs/:id/params") { request, context in
            let body = try await request.decode(as: ParamsRequest.self, context: context)
            try await context.acting(registry).logParams(run: context.id("id"), body.params.mapValues(\.value))
            return Response(status: .noContent)
        }
        api.post("runs/:id/tags") { request, context in
            let body = try await request.decode(as: TagsRequest.self, context: context)
            try await context.acting(registry).setTags(run: context.id("id"), body.tags)
            return Response(status: .noContent)
        }
        api.post("runs/:id/finish") { request, context in
            let body = try await request.decode(as: FinishRequest.self, context: context)
            let id = try context.id("id")
            let acting = context.acting(registry)
            switch body.status ?? .finished {
            case .finished: try await acting.finishRun(id)
            case .failed: try await acting.failRun(id, reason: body.reason ?? "failed (reported by the client)")
            case .running: throw APIError(.badRequest, "invalid_status", "A run finishes as 'finished' or 'failed'.")
            }
            return try Response.json(RunJSON(try await registry.run(id)))
        }
        api.delete("runs/:id") { _, context in
            try await context.acting(registry).deleteRun(context.id("id"))
            return Response(status: .noContent)
        }
    }
}
