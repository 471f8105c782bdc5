import FusionCore
import Hummingbird
import Logging
import RegistryStore
import TensorCore

/// `fusebox serve`: the registry over HTTP. Like the CLI, it parses, authorises and renders;
/// every answer comes from one ``Registry`` call.
///
/// Routes (JSON; errors are `{"error": {"code", "message"}}` with the HTTP status):
///
/// - `GET /healthz` (no token);
/// - `GET /api/v1/models`, `GET /api/v1/models/{model}` (its versions, newest first),
///   `GET /api/v1/models/{model}/versions`, `GET /api/v1/models/{model}/versions/{ref}` (`ref` is a
///   number, an alias or `latest`);
/// - `POST /api/v1/models/{model}/versions/{ref}/predict` with `{"inputs": {MODALITY: [[…]]}}` →
///   `{"model", "version", "probabilities", "predictions"}`; the reference is resolved per request.
public enum FuseboxServer {
    /// The largest JSON body accepted (413 above it).
    public static let maxJSONBody = 64 << 20

    /// Serves `registry` on `host:port` until SIGTERM or SIGINT, then finishes the requests in
    /// flight and returns. `authenticate: false` lets every request through (the CLI allows it on
    /// a loopback host only). `onRunning` gets the bound port (useful with port 0).
    public static func run(
        registry: Registry,
        host: String,
        port: Int,
        authenticate: Bool,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let app = Application(
            router: router(registry: registry, authenticate: authenticate, logger: logger),
            configuration: .init(address: .hostname(host, port: port), serverName: "fusebox"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
        try await app.runService()
    }

    static func router(registry: Registry, authenticate: Bool, logger: Logger) -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: RequestLog(logger: logger))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: TokenAuthenticator(registry: registry, enabled: authenticate))
        let cache = ClassifierCache(registry: registry)

        router.get("healthz") { _, _ in try APIError.json(["status": "ok"]) }
        let api = router.group("api/v1")
        api.get("models") { _, _ in try APIError.json(try await registry.models().map(ModelBody.init)) }
        api.get("models/:model") { _, context in
            let model = try context.parameters.require("model")
            guard let summary = try await registry.models().first(where: { $0.name == model }) else {
                throw RegistryError(.notFound, "There is no model named '\(model)'.")
            }
            return try APIError.json(ModelBody(summary))
        }
        api.get("models/:model/versions") { _, context in
            try APIError.json(
                try await registry.versions(of: context.parameters.require("model")).map(VersionBody.init)
            )
        }
        api.get("models/:model/versions/:ref") { _, context in
            try APIError.json(VersionBody(try await registry.version(reference(context))))
        }
        api.post("models/:model/versions/:ref/predict") { request, context in
            let body = try await request.decode(as: PredictRequest.self, context: context)
            let reference = try reference(context)
            let (model, number) = try await cache.classifier(reference)
            let data = try dataset(body, for: model.spec)
            let p = try model.predictProbabilities(data)
            let predicted = p.argmaxRows()
            return try APIError.json(
                PredictResponse(
                    model: reference.model,
                    version: number,
                    probabilities: (0..<p.rows).map { p.row($0) },
                    predictions: predicted.map { i in model.spec.classNames.map { .name($0[i]) } ?? .index(i) }
                )
            )
        }
        return router
    }

    /// `MODEL@REF` from the route's parameters.
    static func reference(_ context: ServerContext) throws -> VersionReference {
        try VersionReference(parsing: "\(context.parameters.require("model"))@\(context.parameters.require("ref"))")
    }

    /// The rows of a prediction request as a dataset the version can read: each modality with the
    /// kind the version was trained on; rows of equal width and count (checked, with the modality named).
    static func dataset(_ body: PredictRequest, for spec: FusionSpec) throws -> Dataset {
        guard !body.inputs.isEmpty else {
            throw APIError(.unprocessableContent, "invalid_data", "'inputs' names no modality.")
        }
        let counts = Set(body.inputs.values.map(\.count))
        guard counts.count == 1, let rows = counts.first, rows > 0 else {
            throw APIError(
                .unprocessableContent,
                "invalid_data",
                "Every modality needs the same number of rows (at least one); got "
                    + body.inputs.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.count)" }.joined(
                        separator: ", "
                    )
                    + "."
            )
        }
        let modalities = try body.inputs.sorted { $0.key < $1.key }.map { name, values -> ModalityInput in
            guard let expected = spec.modalities.first(where: { $0.name == name }) else {
                throw APIError(
                    .unprocessableContent,
                    "invalid_data",
                    "The model has no modality '\(name)' (it has \(spec.modalities.map(\.name).joined(separator: ", ")))."
                )
            }
            guard values.allSatisfy({ $0.count == expected.width }) else {
                let bad = values.firstIndex { $0.count != expected.width }!
                throw APIError(
                    .unprocessableContent,
                    "invalid_data",
                    "Modality '\(name)' row \(bad) has \(values[bad].count) values; the model expects \(expected.width)."
                )
            }
            return ModalityInput(
                name: name,
                kind: expected.kind,
                values: Matrix(rows: rows, columns: expected.width, values: values.flatMap { $0 })
            )
        }
        let targets: Targets =
            spec.task == .regression
            ? .values([Float](repeating: 0, count: rows)) : .classes([Int](repeating: 0, count: rows))
        return try Dataset(
            modalities: modalities,
            targets: targets,
            classCount: spec.task == .classification ? spec.classCount : nil
        )
    }
}
