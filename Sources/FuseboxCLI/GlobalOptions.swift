import ArgumentParser
import Foundation
import Logging
import RegistryPostgres
import RegistryStore

/// Options every command that touches the store takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        help:
            "Registry store: a file, or postgres://USER@HOST:PORT/DBNAME (default: $FUSEBOX_DB, else ./fusebox.sqlite)."
    )
    var db: String?

    @Option(help: "Output format: table, json or csv.")
    var format: OutputFormat = .table

    @Flag(name: .shortAndLong, help: "Log debug details, and the underlying cause of errors, to stderr.")
    var verbose = false

    /// The store path: --db, else $FUSEBOX_DB, else ./fusebox.sqlite.
    var storePath: String {
        db ?? ProcessInfo.processInfo.environment["FUSEBOX_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "fusebox.sqlite"
    }

    var logger: Logger { Self.logger(verbose: verbose) }

    /// The CLI's logger: notices, or everything with `--verbose`.
    static func logger(verbose: Bool) -> Logger {
        var logger = Logger(label: "fusebox")
        logger.logLevel = verbose ? .debug : .notice
        return logger
    }

    /// What a command does with the store.
    enum StoreUse {
        /// Only reads: opened read-only, never waits for a writer, never changes a byte.
        case read
        /// Writes to an existing store (upgrading its schema first if needed).
        case write
        /// Writes, creating the store when there is none.
        case create
    }

    /// Opens the store for `use`, acting as the OS user: a file, or a PostgreSQL database when
    /// the store is a `postgres://` URL.
    func openRegistry(_ use: StoreUse) throws -> Registry {
        try Registry.open(
            url: storePath,
            createIfMissing: use == .create,
            access: use == .read ? .readOnly : .readWrite,
            logger: logger
        )
    }
}

/// `KEY=VALUE` options (`--tag team=vision`).
func parsePairs(_ items: [String], option: String) throws -> [String: String] {
    var out: [String: String] = [:]
    for item in items {
        guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
            throw ValidationError("\(option) takes KEY=VALUE, got '\(item)'.")
        }
        out[String(item[..<eq])] = String(item[item.index(after: eq)...])
    }
    return out
}

extension Fusebox {
    /// Parses a reference given as a command argument; a malformed one is a usage error.
    static func reference(_ text: String) throws -> VersionReference {
        do { return try VersionReference(parsing: text) } catch let error as RegistryError {
            throw ValidationError(error.message)
        }
    }
}
