import Hummingbird
import RegistryStore

/// The per-request context: Hummingbird's core storage and the authenticated token, if any.
struct ServerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Set by ``TokenAuthenticator`` (stays nil with `--no-auth`). A reference, so the request
    /// log, which wraps the authenticator, sees what it set.
    let authenticated = AuthenticatedToken()
    var token: TokenInfo? { authenticated.token }

    init(source: Source) {
        coreContext = .init(source: source)
    }

    /// JSON request bodies above this are refused with 413.
    var maxUploadSize: Int { FuseboxServer.maxJSONBody }

    /// `registry` acting for the request's token: what it writes records the token's name as its
    /// principal (without tokens, the server's own user).
    func acting(_ registry: Registry) -> Registry {
        token.map { registry.acting(as: $0.name) } ?? registry
    }

    /// A route parameter that must be a run, evaluation or comparison id.
    func id(_ name: String) throws -> Int64 {
        let text = try parameters.require(name)
        guard let id = Int64(text), id > 0 else {
            throw APIError(.badRequest, "invalid_id", "'\(text)' is not an id (a whole number from 1).")
        }
        return id
    }

    /// `MODEL@REF` from the route's `model` and `ref` parameters.
    func reference() throws -> VersionReference {
        try VersionReference(parsing: "\(parameters.require("model"))@\(parameters.require("ref"))")
    }
}

/// The token a request was authenticated with: written once by the authenticator, read after.
final class AuthenticatedToken: @unchecked Sendable {
    var token: TokenInfo?
}
