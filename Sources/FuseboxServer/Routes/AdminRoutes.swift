import Hummingbird
import RegistryJSON
import RegistryStore

/// Admin scope: tokens (list, create — the secret is in this one answer only — revoke) and
/// garbage collection.
struct AdminRoutes {
    let registry: Registry

    func add(to api: RouterGroup<ServerContext>) {
        api.get("tokens") { _, _ in try Response.json(try await registry.tokens().map(TokenJSON.init)) }
        api.post("tokens") { request, context in
            let body = try await request.decode(as: TokenCreateRequest.self, context: context)
            guard let scope = TokenScope(rawValue: body.scope) else {
                throw APIError(
                    .badRequest,
                    "invalid_field",
                    "'scope' must be read, write or admin, got '\(body.scope)'."
                )
            }
            let token = try await context.acting(registry).createToken(name: body.name, scope: scope)
            return try Response.json(
                CreatedTokenJSON(name: body.name, scope: scope, token: token),
                status: .created
            )
        }
        api.delete("tokens/:name") { _, context in
            try await context.acting(registry).revokeToken(name: context.parameters.require("name"))
            return Response(status: .noContent)
        }
        api.post("gc") { request, context in
            let report = try await context.acting(registry).collectGarbage(dryRun: request.query("dry_run") == "true")
            return try Response.json(
                GarbageJSON(report)
            )
        }
    }
}
