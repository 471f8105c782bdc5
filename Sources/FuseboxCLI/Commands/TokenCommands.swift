import ArgumentParser
import Foundation
import RegistryJSON
import RegistryStore

extension TokenScope: ExpressibleByArgument {}

extension Fusebox {
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create, list and revoke the API tokens of 'fusebox serve' (only their SHA-256 is stored).",
            subcommands: [Create.self, List.self, Revoke.self]
        )
    }
}

extension Fusebox.Token {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it alone on stdout; it is shown this once.",
            discussion:
                "Scopes: read (every GET), write (register, runs, evaluations, comparisons, aliases), admin (tokens, delete, gc)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The token's name: writes made with it are recorded under this name.") var name: String
        @Option(help: "read, write or admin.") var scope: TokenScope

        func run() async throws {
            let token = try await global.openRegistry(.create).createToken(name: name, scope: scope)
            switch global.format {
            case .json: try printJSON(encoding: CreatedTokenJSON(name: name, scope: scope, token: token))
            case .csv:
                try Listing(columns: ["name", "scope", "token"], rows: [[name, scope.rawValue, token]]).render(
                    .csv,
                    json: []
                )
            case .table:
                Terminal.out(token)
                Terminal.err("Token '\(name)' (\(scope.rawValue)) created; it is not shown again.")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tokens (never the tokens themselves).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let tokens = try await global.openRegistry(.read).tokens()
            try Listing(
                columns: ["name", "scope", "fingerprint", "created", "created_by", "revoked", "revoked_by"],
                rows: tokens.map {
                    [
                        $0.name, $0.scope.rawValue, $0.fingerprint, isoDate($0.createdAt), $0.createdBy,
                        $0.revokedAt.map(isoDate) ?? "", $0.revokedBy ?? "",
                    ]
                }
            )
            .render(global.format, encoding: tokens.map(TokenJSON.init))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token: requests carrying it are refused from then on."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The token's name.") var name: String

        func run() async throws {
            try await global.openRegistry(.write).revokeToken(name: name)
            try printDone("Token '\(name)' revoked.", ["name": name, "revoked": true], format: global.format)
        }
    }
}
