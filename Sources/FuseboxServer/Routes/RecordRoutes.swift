import Hummingbird
import RegistryJSON
import RegistryStore

/// Evaluations and comparisons (the A/B reports): list and get.
struct RecordRoutes {
    let registry: Registry

    func add(to api: RouterGroup<ServerContext>) {
        api.get("evaluations") { request, _ in
            let list = try await registry.evaluations(
                of: request.query("model"),
                limit: request.query("limit", in: 1...10_000, default: 100)
            )
            return try Response.json(list.map(EvaluationJSON.init))
        }
        api.get("evaluations/:id") { _, context in
            try Response.json(EvaluationJSON(try await registry.evaluation(context.id("id"))))
        }
        api.get("comparisons") { request, _ in
            let list = try await registry.comparisons(
                of: request.query("model"),
                limit: request.query("limit", in: 1...10_000, default: 100)
            )
            return try Response.json(list.map(ComparisonJSON.init))
        }
        api.get("comparisons/:id") { _, context in
            try Response.json(ComparisonJSON(try await registry.comparison(context.id("id"))))
        }
    }
}
