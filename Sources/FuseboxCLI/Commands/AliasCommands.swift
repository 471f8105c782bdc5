import ArgumentParser
import RegistryJSON
import RegistryStore

extension Fusebox {
    struct Alias: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Point names like 'production' at versions; every move is recorded.",
            subcommands: [Assign.self, Delete.self, List.self]
        )
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Move an alias back to the version it pointed at before its latest move (refused if that version fails verification)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var model: String
        @Option(help: "The alias to roll back.") var alias = "production"
        @Option(help: "Why (recorded with the event).") var reason = ""

        func run() async throws {
            let event = try await global.openRegistry(.write).rollback(alias, model: model, reason: reason)
            try Fusebox.printEvent(event, format: global.format)
        }
    }

    static func printEvent(_ e: AliasEvent, format: OutputFormat) throws {
        switch format {
        case .json: try printJSON(encoding: AliasEventJSON(e))
        case .csv:
            let cells = [
                String(e.id), e.model, e.alias, e.action.rawValue, e.fromVersion.map(String.init) ?? "",
                e.toVersion.map(String.init) ?? "", e.reason,
            ]
            try Listing(columns: ["id", "model", "alias", "action", "from", "to", "reason"], rows: [cells]).render(
                .csv,
                json: []
            )
        case .table:
            Terminal.out(
                "\(e.model)@\(e.alias): \(e.fromVersion.map(String.init) ?? "-") → \(e.toVersion.map(String.init) ?? "-") (\(e.action.rawValue))"
            )
        }
    }
}

extension Fusebox.Alias {
    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Point an alias at a version: 'alias set MODEL@N ALIAS' or 'alias set MODEL ALIAS N'."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The version, e.g. sentiment@2 (or the model name, with the number last).") var target: String
        @Argument(help: "Alias, e.g. 'production'.") var alias: String
        @Argument(help: "Version number, when the first argument is a model name.") var version: Int?
        @Option(help: "Why (recorded with the event).") var reason = ""

        /// The model and version number, from either form.
        func resolved() throws -> (model: String, version: Int) {
            if target.contains("@") {
                guard version == nil else {
                    throw ValidationError(
                        "Give the version once: 'alias set \(target) \(alias)' or 'alias set MODEL \(alias) N'."
                    )
                }
                let reference = try Fusebox.reference(target)
                guard case .number(let n) = reference.selector else {
                    throw ValidationError("'\(target)' is not a version number; an alias points at MODEL@N.")
                }
                return (reference.model, n)
            }
            guard let version else {
                throw ValidationError(
                    "Missing the version: 'alias set \(target)@N \(alias)' or 'alias set \(target) \(alias) N'."
                )
            }
            guard version >= 1 else { throw ValidationError("The version must be 1 or more, got \(version).") }
            return (target, version)
        }

        func validate() throws { _ = try resolved() }

        func run() async throws {
            let (model, number) = try resolved()
            let event = try await global.openRegistry(.write).setAlias(
                alias,
                model: model,
                version: number,
                reason: reason
            )
            try Fusebox.printEvent(event, format: global.format)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an alias (the removal is recorded).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var model: String
        @Argument(help: "Alias.") var alias: String

        func run() async throws {
            let event = try await global.openRegistry(.write).deleteAlias(alias, model: model)
            try Fusebox.printEvent(event, format: global.format)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a model's aliases, or every model's without one."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name (all models when left out).") var model: String?

        func run() async throws {
            let registry = try global.openRegistry(.read)
            var models: [String] = []
            if let model { models = [model] } else { models = try await registry.models().map(\.name) }
            var aliases: [(model: String, alias: String, version: Int, updatedAt: Double)] = []
            for model in models {
                aliases += try await registry.aliases(of: model).map { (model, $0.alias, $0.version, $0.updatedAt) }
            }
            try Listing(
                columns: ["model", "alias", "version", "updated"],
                rows: aliases.map { [$0.model, $0.alias, String($0.version), isoDate($0.updatedAt)] }
            )
            .render(
                global.format,
                encoding: aliases.map {
                    AliasJSON(model: $0.model, alias: $0.alias, version: $0.version, updatedAt: $0.updatedAt)
                }
            )
        }
    }
}
