import Foundation
import Hummingbird
import RegistryStore

/// MLflow's model registry API over Fusebox's models, versions and aliases. A registered model is
/// a component model; a version is created from the tensor file of an artifact; alias changes
/// land in the alias history with the token's name as principal. Stages do not exist (aliases
/// replaced them in MLflow too): every version's stage is `None`.
struct MLflowRegistryRoutes {
    let registry: Registry
    let limits: FuseboxServer.Limits

    typealias Handler = MLflowTrackingRoutes.Handler
    typealias Empty = MLflowTrackingRoutes.Empty

    func add(to group: RouterGroup<ServerContext>) {
        func route(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
            group.on(RouterPath(path), method: method) { request, context in
                try Response.json(AnyEncodable(try await handler(MLflowArguments.of(request), context)))
            }
        }
        route(.post, "registered-models/create") { args, context in
            let name = try args.require("name")
            try await context.acting(registry).createModel(
                name,
                kind: .component,
                description: args.string("description") ?? ""
            )
            for (key, value) in try args.pairs("tags") {
                try await context.acting(registry).setModelTag(name, key: key, value: value)
            }
            return ["registered_model": try await registeredModel(name)]
        }
        route(.get, "registered-models/get") { args, _ in
            ["registered_model": try await registeredModel(try args.require("name"))]
        }
        route(.get, "registered-models/search", searchModels)
        route(.post, "registered-models/search", searchModels)
        route(.post, "registered-models/rename") { args, context in
            let newName = try args.require("new_name")
            _ = try await registeredModel(try args.require("name"))
            try await context.acting(registry).renameModel(try args.require("name"), to: newName)
            return ["registered_model": try await registeredModel(newName)]
        }
        route(.patch, "registered-models/update") { args, context in
            let name = try args.require("name")
            _ = try await registeredModel(name)
            if let description = args.string("description") {
                try await context.acting(registry).describeModel(name, as: description)
            }
            return ["registered_model": try await registeredModel(name)]
        }
        route(.delete, "registered-models/delete") { args, context in
            let name = try args.require("name")
            _ = try await registeredModel(name)
            try await context.acting(registry).deleteModel(name, reason: "deleted through the MLflow API")
            return Empty()
        }
        route(.post, "registered-models/set-tag") { args, context in
            let name = try args.require("name")
            _ = try await registeredModel(name)
            try await context.acting(registry).setModelTag(
                name,
                key: try args.require("key"),
                value: args.string("value") ?? ""
            )
            return Empty()
        }
        route(.delete, "registered-models/delete-tag") { args, context in
            let name = try args.require("name")
            _ = try await registeredModel(name)
            try await context.acting(registry).setModelTag(name, key: try args.require("key"), value: nil)
            return Empty()
        }
        let latest: Handler = { args, _ in
            let name = try args.require("name")
            let model = try await liveModel(name)
            let stages = args.strings("stages")
            guard stages.isEmpty || stages.contains(where: { $0.lowercased() == "none" }),
                let number = model.latestVersion
            else { return ["model_versions": [MLflowJSON.ModelVersion]()] }
            return ["model_versions": [MLflowJSON.ModelVersion(try await version(name, number))]]
        }
        route(.post, "registered-models/get-latest-versions", latest)
        route(.get, "registered-models/get-latest-versions", latest)
        route(.post, "model-versions/create", createVersion)
        route(.get, "model-versions/get") { args, _ in
            ["model_version": MLflowJSON.ModelVersion(try await version(args))]
        }
        route(.get, "model-versions/search", searchVersions)
        route(.post, "model-versions/search", searchVersions)
        route(.patch, "model-versions/update") { args, context in
            let found = try await version(args)
            if let description = args.string("description") {
                try await context.acting(registry).describeVersion(reference(found), as: description)
            }
            return ["model_version": MLflowJSON.ModelVersion(try await version(args))]
        }
        route(.delete, "model-versions/delete") { args, context in
            let found = try await version(args)
            try await context.acting(registry).deleteVersion(
                reference(found),
                force: true,
                reason: "deleted through the MLflow API"
            )
            return Empty()
        }
        route(.get, "model-versions/get-download-uri") { args, _ in
            let found = try await version(args)
            guard let source = found.source, let path = try await artifactPath(of: source) else {
                throw MLflowError(
                    code: "INVALID_STATE",
                    message:
                        "\(found.reference) was registered by Fusebox, not from an artifact; download it from /api/v1/models/\(found.model)/versions/\(found.number)/weights.",
                    status: .badRequest
                )
            }
            return ["artifact_uri": "mlflow-artifacts:/\(path)"]
        }
        route(.post, "model-versions/set-tag") { args, context in
            let found = try await version(args)
            try await context.acting(registry).setVersionTag(
                reference(found),
                key: try args.require("key"),
                value: args.string("value") ?? ""
            )
            return Empty()
        }
        route(.delete, "model-versions/delete-tag") { args, context in
            let found = try await version(args)
            try await context.acting(registry).setVersionTag(reference(found), key: try args.require("key"), value: nil)
            return Empty()
        }
        route(.post, "model-versions/transition-stage") { _, _ in
            throw MLflowError.invalid(
                "Fusebox has no stages (MLflow deprecated them too); use an alias: set_registered_model_alias(name, 'production', version)."
            )
        }
        route(.post, "registered-models/alias") { args, context in
            let name = try args.require("name")
            _ = try await liveModel(name)
            let text = try args.require("version")
            guard let number = Int(text) else { throw MLflowError.invalid("'\(text)' is not a version number.") }
            try await context.acting(registry).setAlias(
                try args.require("alias"),
                model: name,
                version: number,
                reason: "set through the MLflow API"
            )
            return Empty()
        }
        route(.delete, "registered-models/alias") { args, context in
            let name = try args.require("name")
            _ = try await liveModel(name)
            try await context.acting(registry).deleteAlias(
                try args.require("alias"),
                model: name,
                reason: "deleted through the MLflow API"
            )
            return Empty()
        }
        route(.get, "registered-models/alias") { args, _ in
            let name = try args.require("name")
            _ = try await liveModel(name)
            let found = try await registry.version(
                VersionReference(model: name, selector: .alias(try args.require("alias")))
            )
            return ["model_version": MLflowJSON.ModelVersion(found)]
        }
    }

    // MARK: - Handlers

    @Sendable func createVersion(_ args: MLflowArguments, context: ServerContext) async throws -> any Encodable {
        let name = try args.require("name")
        _ = try await liveModel(name)
        let source = try args.require("source")
        guard let path = try await artifactPath(of: source) else {
            throw MLflowError.invalid(
                "Fusebox registers versions from its own artifacts: the source must be runs:/RUN_ID/PATH or mlflow-artifacts:/PATH, got '\(source)'."
            )
        }
        let run = try await args.string("run_id").flatMap { $0.isEmpty ? nil : $0 }.asyncMap {
            try await MLflowRunIds.resolve($0, in: registry)
        }
        let number = try await context.acting(registry).registerComponent(
            model: name,
            artifact: path,
            trainingRun: run,
            source: source,
            description: args.string("description") ?? "",
            tags: Dictionary(try args.pairs("tags"), uniquingKeysWith: { _, last in last }),
            temporaryDirectory: limits.temporaryDirectory
        )
        return ["model_version": MLflowJSON.ModelVersion(try await version(name, number))]
    }

    struct ModelPage: Encodable {
        let registered_models: [MLflowJSON.RegisteredModel]
        let next_page_token: String?
    }

    @Sendable func searchModels(_ args: MLflowArguments, context: ServerContext) async throws -> any Encodable {
        let filter = try MLflowFilter(args.string("filter"))
        try filter.require(attributes: ["name"], tags: true, what: "registered models")
        var models = try await registry.models().filter {
            $0.deletedAt == nil && filter.matches(attributes: ["name": $0.name], tags: $0.tags)
        }
        if let order = args.strings("order_by").first {
            let parts = order.split(separator: " ").map { $0.lowercased() }
            let descending = parts.count > 1 && parts[1] == "desc"
            switch parts[0].replacingOccurrences(of: "attributes.", with: "") {
            case "name": models.sort { descending ? $0.name > $1.name : $0.name < $1.name }
            case "creation_timestamp", "timestamp":
                models.sort { descending ? $0.createdAt > $1.createdAt : $0.createdAt < $1.createdAt }
            case "last_updated_timestamp":
                models.sort { descending ? $0.updatedAt > $1.updatedAt : $0.updatedAt < $1.updatedAt }
            default: throw MLflowError.invalid("Invalid order_by '\(order)' for registered models.")
            }
        }
        let (page, next) = try paginate(models, args, maximum: 1000, fallback: 100)
        var out: [MLflowJSON.RegisteredModel] = []
        for model in page {
            out.append(
                .init(model, latest: try await model.latestVersion.asyncMap { try await version(model.name, $0) })
            )
        }
        return ModelPage(registered_models: out, next_page_token: next)
    }

    struct VersionPage: Encodable {
        let model_versions: [MLflowJSON.ModelVersion]
        let next_page_token: String?
    }

    @Sendable func searchVersions(_ args: MLflowArguments, context: ServerContext) async throws -> any Encodable {
        let filter = try MLflowFilter(args.string("filter"))
        try filter.require(
            attributes: ["name", "run_id", "source_path", "version_number"],
            tags: true,
            what: "model versions"
        )
        // A filter naming one model reads only that model's versions.
        let named = filter.clauses.first { $0.entity == .attribute && $0.key == "name" && $0.op == "=" }
        var names: [String] = []
        if let named, case .text(let name) = named.value {
            names = [name]
        } else {
            names = try await registry.models().filter { $0.deletedAt == nil }.map(\.name)
        }
        var found: [MLflowJSON.ModelVersion] = []
        for name in names {
            guard let versions = try? await registry.versions(of: name) else { continue }
            for v in versions {
                let json = MLflowJSON.ModelVersion(v)
                if filter.matches(
                    attributes: [
                        "name": json.name, "run_id": json.run_id, "source_path": json.source,
                        "version_number": json.version,
                    ],
                    tags: v.tags
                ) {
                    found.append(json)
                }
            }
        }
        let (page, next) = try paginate(found, args, maximum: 200_000, fallback: 10_000)
        return VersionPage(model_versions: page, next_page_token: next)
    }

    // MARK: - Lookups

    /// A registered model, refusing a deleted one as MLflow does.
    func liveModel(_ name: String) async throws -> ModelSummary {
        let model: ModelSummary
        do { model = try await registry.model(name) } catch let error as RegistryError where error.code != .corruptData
        {
            throw MLflowError.notFound("Registered Model with name=\(name) not found")
        }
        guard model.deletedAt == nil else { throw MLflowError.notFound("Registered Model with name=\(name) not found") }
        return model
    }

    func registeredModel(_ name: String) async throws -> MLflowJSON.RegisteredModel {
        let model = try await liveModel(name)
        return .init(model, latest: try await model.latestVersion.asyncMap { try await version(name, $0) })
    }

    func version(_ name: String, _ number: Int) async throws -> ModelVersion {
        try await registry.version(VersionReference(model: name, selector: .number(number)))
    }

    func version(_ args: MLflowArguments) async throws -> ModelVersion {
        let name = try args.require("name")
        _ = try await liveModel(name)
        let text = try args.require("version")
        guard let number = Int(text) else { throw MLflowError.invalid("'\(text)' is not a version number.") }
        do { return try await version(name, number) } catch let error as RegistryError where error.code == .notFound {
            throw MLflowError.notFound("Model Version (name=\(name), version=\(number)) not found")
        }
    }

    func reference(_ v: ModelVersion) -> VersionReference {
        VersionReference(model: v.model, selector: .number(v.number))
    }

    /// The artifact path a source names: `runs:/RUN/PATH` (the run's artifact folder) or
    /// `mlflow-artifacts:/PATH`; nil for anything else.
    func artifactPath(of source: String) async throws -> String? {
        if source.hasPrefix("mlflow-artifacts:") {
            let path = source.dropFirst("mlflow-artifacts:".count).drop { $0 == "/" }
            return path.isEmpty ? nil : String(path)
        }
        guard source.hasPrefix("runs:/") else { return nil }
        let rest = source.dropFirst("runs:/".count)
        let parts = rest.split(separator: "/", maxSplits: 1).map(String.init)
        guard let runText = parts.first else { return nil }
        let id = try await MLflowRunIds.resolve(runText, in: registry)
        let run = try await registry.run(id)
        let root = MLflowJSON.artifactRoot(experiment: run.experimentId, run: id)
        return parts.count == 2 && !parts[1].isEmpty ? "\(root)/\(parts[1])" : root
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}
