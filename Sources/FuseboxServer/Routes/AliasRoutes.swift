import Hummingbird
import RegistryJSON
import RegistryStore

/// Aliases: list, set, delete, promote through the gate (with its evidence), roll back; the
/// alias history.
struct AliasRoutes {
    let registry: Registry

    func add(to api: RouterGroup<ServerContext>) {
        api.get("models/:model/aliases") { _, context in
            let model = try context.parameters.require("model")
            let aliases = try await registry.aliases(of: model)
            return try Response.json(
                aliases.map { AliasJSON(model: model, alias: $0.alias, version: $0.version, updatedAt: $0.updatedAt) }
            )
        }
        api.get("models/:model/history") { request, context in
            let events = try await registry.aliasEvents(
                of: context.parameters.require("model"),
                alias: request.query("alias")
            )
            return try Response.json(events.map(AliasEventJSON.init))
        }
        api.put("models/:model/aliases/:alias") { request, context in
            let body = try await request.decode(as: AliasSetRequest.self, context: context)
            let event = try await context.acting(registry).setAlias(
                context.parameters.require("alias"),
                model: context.parameters.require("model"),
                version: body.version,
                reason: body.reason ?? ""
            )
            return try Response.json(AliasEventJSON(event))
        }
        api.delete("models/:model/aliases/:alias") { request, context in
            let event = try await context.acting(registry).deleteAlias(
                context.parameters.require("alias"),
                model: context.parameters.require("model"),
                reason: request.query("reason") ?? ""
            )
            return try Response.json(AliasEventJSON(event))
        }
        api.post("models/:model/aliases/:alias/rollback") { request, context in
            let body = try await request.decode(as: ReasonRequest.self, context: context)
            let event = try await context.acting(registry).rollback(
                context.parameters.require("alias"),
                model: context.parameters.require("model"),
                reason: body.reason ?? ""
            )
            return try Response.json(AliasEventJSON(event))
        }
        api.post("models/:model/aliases/:alias/promote", use: promote)
    }

    /// `POST …/aliases/{alias}/promote`: the CLI's `promote` over HTTP. 200 when the alias moved;
    /// 409 with the outcome (the recorded comparison, the gate's evidence) when the gate failed.
    @Sendable func promote(_ request: Request, context: ServerContext) async throws -> Response {
        let body = try await request.decode(as: PromoteRequest.self, context: context)
        let model = try context.parameters.require("model")
        let candidate = VersionReference(model: model, selector: .number(body.version))
        let spec = try await registry.version(candidate).spec
        guard let spec else {
            throw APIError(
                .unprocessableContent,
                "invalid_data",
                "\(model)@\(body.version) is a component model; only fused models are promoted through a gate."
            )
        }
        let gate = PromotionGate(
            try body.require.map { try choice(PromotionRequirement(rawValue: $0), $0, "require") } ?? .better,
            metric: try body.metric.map { try choice(GateMetric(rawValue: $0), $0, "metric") } ?? .accuracy,
            margin: body.margin ?? 0.01,
            alpha: body.alpha ?? 0.05
        )
        let resamples = body.bootstrap ?? 1000
        guard (1...100_000).contains(resamples) else {
            throw APIError(.badRequest, "invalid_field", "'bootstrap' must be in 1...100000, got \(resamples).")
        }
        let outcome = try await context.acting(registry).promote(
            candidate,
            alias: context.parameters.require("alias"),
            data: RequestData.dataset(body.inputs, labels: body.labels, for: spec),
            gate: gate,
            resamples: resamples,
            seed: body.seed ?? 0,
            force: body.force ?? false,
            allowTrainingData: body.allow_training_data ?? false
        )
        return try Response.json(PromotionJSON(outcome), status: outcome.event == nil ? .conflict : .ok)
    }

    func choice<T>(_ value: T?, _ text: String, _ field: String) throws -> T
    where T: CaseIterable & RawRepresentable, T.RawValue == String {
        guard let value else {
            throw APIError(
                .badRequest,
                "invalid_field",
                "'\(field)' must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'."
            )
        }
        return value
    }
}
