import ArgumentParser
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
        if format == .json { return try printJSON(eventJSON(e)) }
        Terminal.out(
            "\(e.model)@\(e.alias): \(e.fromVersion.map(String.init) ?? "-") → \(e.toVersion.map(String.init) ?? "-") (\(e.action.rawValue))"
        )
    }
}

extension Fusebox.Alias {
    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Point an alias at a version.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var model: String
        @Argument(help: "Alias, e.g. 'production'.") var alias: String
        @Argument(help: "Version number.") var version: Int
        @Option(help: "Why (recorded with the event).") var reason = ""

        func validate() throws {
            guard version >= 1 else { throw ValidationError("The version must be 1 or more, got \(version).") }
        }

        func run() async throws {
            let event = try await global.openRegistry(.write).setAlias(
                alias,
                model: model,
                version: version,
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
        static let configuration = CommandConfiguration(abstract: "List a model's aliases.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var model: String

        func run() async throws {
            let aliases = try await global.openRegistry(.read).aliases(of: model)
            try Listing(
                columns: ["alias", "version", "updated"],
                rows: aliases.map { [$0.alias, String($0.version), isoDate($0.updatedAt)] }
            )
            .render(
                global.format,
                json: aliases.map {
                    ["alias": $0.alias, "version": $0.version, "updated": isoDate($0.updatedAt)] as [String: Any]
                }
            )
        }
    }
}
