import HTTPTypes
import Hummingbird
import RegistryStore

/// Checks `Authorization: Bearer TOKEN` (or, for reading, the web UI's session cookie) on every
/// request but ``publicPaths``: no token or an unknown (or revoked) one is 401 for the API and a
/// redirect to the sign-in page for the UI; a token whose scope is below the route's is 403.
/// Reading (GET, HEAD, and prediction) needs `read`; tokens, garbage collection and deleting a
/// version or a run need `admin`; every other write needs `write`.
struct TokenAuthenticator: RouterMiddleware {
    /// Tokens are looked up through the cache: a revocation is a commit, seen by the next request.
    let cache: ReadCache
    /// False with `--no-auth` (loopback only): every request is let through as `admin`.
    let enabled: Bool

    func handle(
        _ request: Request,
        context: ServerContext,
        next: (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if Self.publicPaths.contains(path) || !enabled { return try await next(request, context) }
        let reading = request.method == .get || request.method == .head
        var secret: String?
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            secret = String(header.dropFirst("Bearer ".count))
        } else if reading, let cookie = request.cookies[SessionRoutes.cookie]?.value, !cookie.isEmpty {
            // The web UI's session: honoured for reading only, so no other site can write with it.
            secret = cookie
        }
        var token: TokenInfo?
        if let secret { token = try await cache.token(secret) }
        guard let token else {
            if !path.hasPrefix("/api/") {
                let target = request.uri.query.map { "\(path)?\($0)" } ?? path
                return Response(status: .seeOther, headers: [.location: "/login?next=\(HTML.component(target))"])
            }
            throw APIError(
                .unauthorized,
                "unauthenticated",
                secret == nil
                    ? "Send 'Authorization: Bearer TOKEN' (fusebox token create NAME --scope read)."
                    : "The token is unknown or revoked."
            )
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

    /// Served to anyone: liveness, the API's description, and what signing in needs.
    static let publicPaths: Set<String> = ["/healthz", "/api/v1/openapi.json", "/login", "/logout", "/ui.css"]

    /// The scope a request needs.
    static func scope(for request: Request) -> TokenScope {
        let path = request.uri.path
        if MLflowError.isMLflowPath(path) {
            // MLflow searches are POSTs that only read.
            let reads = path.hasSuffix("/search") || path.hasSuffix("/get-latest-versions")
            return request.method == .get || request.method == .head || reads ? .read : .write
        }
        if path.hasPrefix("/api/v1/tokens") || path == "/api/v1/gc" { return .admin }
        if request.method == .get || request.method == .head { return .read }
        if request.method == .post && path.hasSuffix("/predict") { return .read }
        if request.method == .delete && !path.contains("/aliases/") { return .admin }
        return .write
    }
}
