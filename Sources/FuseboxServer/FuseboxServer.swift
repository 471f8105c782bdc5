import Foundation
import Hummingbird
import Logging
import RegistryStore

/// `fusebox serve`: the registry over HTTP. Like the CLI, it parses, authorises and renders;
/// every answer comes from ``Registry`` calls. The routes (all under `/api/v1` but `/healthz`) are
/// described in `openapi.json`, which `GET /api/v1/openapi.json` serves; MLflow's REST API subset
/// (`/api/2.0/mlflow`, `/api/2.0/mlflow-artifacts`) is `MLflowRoutes`, the web UI `UIRoutes`.
///
/// JSON in and out; errors are `{"error": {"code", "message"}}` with the HTTP status (400 a
/// malformed request, 401 no or unknown token, 403 a scope too low, 404 unknown, 409 a conflict
/// or a failed gate, 413 too large, 422 data the model cannot take).
public enum FuseboxServer {
    /// The largest JSON body accepted (413 above it).
    public static let maxJSONBody = 64 << 20

    /// Bounds on what a request may send.
    public struct Limits: Sendable {
        /// The largest safetensors upload, in bytes.
        public var upload: Int
        /// Where uploads and downloads are staged (removed when the request ends).
        public var temporaryDirectory: String

        public init(upload: Int = 16 << 30, temporaryDirectory: String = NSTemporaryDirectory()) {
            self.upload = upload
            self.temporaryDirectory = temporaryDirectory
        }
    }

    /// Serves `registry` on `host:port` until SIGTERM or SIGINT, then finishes the requests in
    /// flight and returns. `authenticate: false` lets every request through (the CLI allows it on
    /// a loopback host only). `onRunning` gets the bound port (useful with port 0).
    public static func run(
        registry: Registry,
        host: String,
        port: Int,
        authenticate: Bool,
        limits: Limits = Limits(),
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        try await application(
            registry: registry,
            host: host,
            port: port,
            authenticate: authenticate,
            limits: limits,
            logger: logger,
            onRunning: onRunning
        ).runService()
    }

    /// The Hummingbird application ``run(registry:host:port:authenticate:limits:logger:onRunning:)`` serves.
    public static func application(
        registry: Registry,
        host: String,
        port: Int,
        authenticate: Bool,
        limits: Limits = Limits(),
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(registry: registry, authenticate: authenticate, limits: limits, logger: logger),
            configuration: .init(address: .hostname(host, port: port), serverName: "fusebox"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    /// Every route of the API (`/api/v1/…` and `/healthz`), as `METHOD /path/{parameter}`: what
    /// `openapi.json` must describe. The web UI's pages are left out.
    public static func routes(of registry: Registry) -> [String] {
        router(registry: registry, authenticate: true, limits: Limits(), logger: Logger(label: "fusebox.routes"))
            .routes.filter { "\($0.path)".hasPrefix("/api/v1") || "\($0.path)" == "/healthz" }.map { route in
                let path = route.path.description.split(separator: "/").map {
                    $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0)
                }
                return "\(route.method) /" + path.joined(separator: "/")
            }
    }

    static func router(
        registry: Registry,
        authenticate: Bool,
        limits: Limits,
        logger: Logger
    ) -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        let reads = ReadCache(registry: registry)
        router.add(middleware: RequestLog(logger: logger))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: TokenAuthenticator(cache: reads, enabled: authenticate))
        router.get("healthz") { _, _ in try Response.json(["status": "ok"]) }
        let api = router.group("api/v1")
        api.get("openapi.json") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: .init(string: OpenAPIDocument.json))
            )
        }
        ModelRoutes(registry: registry, limits: limits).add(to: api)
        PredictRoutes(cache: ClassifierCache(registry: registry, reads: reads)).add(to: api)
        RunRoutes(registry: registry).add(to: api)
        AliasRoutes(registry: registry).add(to: api)
        RecordRoutes(registry: registry).add(to: api)
        AdminRoutes(registry: registry).add(to: api)
        MLflowRoutes(registry: registry, limits: limits).add(to: router)
        SessionRoutes(registry: registry).add(to: router)
        UIRoutes(registry: registry).add(to: router)
        return router
    }
}
