import HTTPTypes
import Hummingbird
import RegistryStore

/// Checks `Authorization: Bearer TOKEN` on every request but `GET /healthz`: no token or an
/// unknown (or revoked) one is 401, a token whose scope is below the route's is 403.
/// Reading (GET, HEAD, and prediction) needs `read`; tokens, garbage collection and deleting a
/// version or a run need `admin`; every other write needs `write`.
struct TokenAuthenticator: RouterMiddleware {
    let registry: Registry
    /// False with `--no-auth` (loopback only): every request is let through as `admin`.
    let enabled: Bool

    func handle(
        _ request: Request,
        context: ServerContext,
        next: (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if path == "/healthz" || path == "/api/v1/openapi.json" || !enabled { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError(
                .unauthorized,
                "unauthenticated",
                "Send 'Authorization: Bearer TOKEN' (fusebox token create NAME --scope read)."
            )
        }
        guard let token = try await registry.authenticate(token: String(header.dropFirst("Bearer ".count))) else {
            throw APIError(.unauthorized, "unauthenticated", "The token is unknown or revoked.")
        }
        let needed = Self.scope(for: request)
        guard token.scope >= needed else {
            throw APIError(
                .forbidden,
                "forbidden",
                "The token '\(token.name)' has scope \(token.scope.rawValue); this request needs \(needed.rawValue)."
            )
        }
        context.authenticated.token = token
        return try await next(request, context)
    }

    /// The scope a request needs.
    static func scope(for request: Request) -> TokenScope {
        let path = request.uri.path
        if path.hasPrefix("/api/v1/tokens") || path == "/api/v1/gc" { return .admin }
        if request.method == .get || request.method == .head { return .read }
        if request.method == .post && path.hasSuffix("/predict") { return .read }
        if request.method == .delete && !path.contains("/aliases/") { return .admin }
        return .write
    }
}
