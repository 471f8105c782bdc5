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
}

/// The token a request was authenticated with: written once by the authenticator, read after.
final class AuthenticatedToken: @unchecked Sendable {
    var token: TokenInfo?
}
