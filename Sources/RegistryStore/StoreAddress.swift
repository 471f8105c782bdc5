import Foundation

/// Where a store lives: an SQLite file (the embedded default) or a PostgreSQL database.
///
/// What `--db` and `FUSEBOX_DB` accept: a value starting with `postgres://` or `postgresql://` is
/// a PostgreSQL URL (libpq's form: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE]`,
/// `pool_size=N` for the connections a process keeps, `prepare_threshold=N` for when a statement is
/// prepared),
/// another `scheme://` is refused, anything else is a file path.
public enum StoreAddress: Sendable, Hashable, CustomStringConvertible {
    /// An SQLite store file.
    case file(String)
    /// A PostgreSQL database.
    case postgres(PostgresAddress)

    /// Parses a `--db` value.
    /// - Throws: ``RegistryError`` `invalidInput`, one line naming what is wrong with a URL.
    public init(parsing text: String) throws {
        let lowered = text.lowercased()
        if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            self = .postgres(try PostgresAddress(parsing: text))
        } else if text.isEmpty {
            throw RegistryError(.invalidInput, "The store address is empty; pass a file path or a postgres:// URL.")
        } else if let scheme = text.range(of: "://").map({ text[..<$0.lowerBound] }),
            scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) })
        {
            throw RegistryError(
                .invalidInput,
                "A store is a file path or a postgres:// URL; '\(scheme)://' is not supported."
            )
        } else {
            self = .file(text)
        }
    }

    /// The path, or the URL without its password: safe to print.
    public var description: String {
        switch self {
        case .file(let path): path
        case .postgres(let address): address.description
        }
    }
}

/// The parts of a `postgres://` URL.
public struct PostgresAddress: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS (libpq's `sslmode`: `disable`, `prefer`, `require`).
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it (libpq's default).
        case prefer
        /// TLS or no connection.
        case require
    }

    /// The role to log in as.
    public var user: String
    /// The password, if the URL gives one (never printed).
    public var password: String?
    /// The server's host name or address.
    public var host: String
    /// The server's port (5432 unless the URL gives one).
    public var port: Int
    /// The database name.
    public var database: String
    /// How the connection uses TLS.
    public var tls: TLSMode
    /// The most connections one process opens to the server (`pool_size`, 1…64;
    /// ``defaultPoolSize`` unless the URL gives one): that many of its transactions — a server's
    /// requests — run at once.
    public var poolSize: Int
    /// The run of a statement on a connection from which it is prepared there, parsed and planned
    /// once and then run by name (`prepare_threshold`, as pgjdbc's `prepareThreshold`; 0 never
    /// prepares, for a connection pooler that does not keep prepared statements).
    public var prepareThreshold: Int

    /// The pool size of an address that gives none.
    public static let defaultPoolSize = 4
    /// The prepare threshold of an address that gives none: a statement's second run on a
    /// connection prepares it.
    public static let defaultPrepareThreshold = 2

    /// Creates an address from its parts.
    public init(
        user: String,
        password: String? = nil,
        host: String,
        port: Int = 5432,
        database: String,
        tls: TLSMode = .prefer,
        poolSize: Int = defaultPoolSize,
        prepareThreshold: Int = defaultPrepareThreshold
    ) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.tls = tls
        self.poolSize = poolSize
        self.prepareThreshold = prepareThreshold
    }

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&pool_size=N&prepare_threshold=N]`.
    /// - Throws: ``RegistryError`` `invalidInput`, naming the part that is missing or wrong.
    public init(parsing text: String) throws {
        func refuse(_ problem: String) -> RegistryError {
            RegistryError(
                .invalidInput,
                "The PostgreSQL URL \(Self.masked(text)) \(problem); expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE."
            )
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "postgres" || scheme == "postgresql"
        else { throw refuse("is not a valid URL") }
        guard let host = components.host, !host.isEmpty else { throw refuse("has no host") }
        guard let user = components.user, !user.isEmpty else { throw refuse("has no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw refuse("has no database name") }
        if let port = components.port, !(1...65535).contains(port) { throw refuse("has an invalid port") }
        var tls = TLSMode.prefer
        var poolSize = Self.defaultPoolSize
        var prepareThreshold = Self.defaultPrepareThreshold
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw refuse("has sslmode '\(item.value ?? "")' (disable, prefer or require)")
                }
                tls = mode
            case "pool_size":
                guard let size = item.value.flatMap({ Int($0) }), (1...64).contains(size) else {
                    throw refuse("has pool_size '\(item.value ?? "")' (a number of connections, 1 to 64)")
                }
                poolSize = size
            case "prepare_threshold":
                guard let runs = item.value.flatMap({ Int($0) }), (0...1_000).contains(runs) else {
                    throw refuse(
                        "has prepare_threshold '\(item.value ?? "")' (a number of runs, 0 to 1000; 0 never prepares)"
                    )
                }
                prepareThreshold = runs
            default:
                throw refuse(
                    "has an unknown option '\(item.name)' (sslmode, pool_size and prepare_threshold are known)"
                )
            }
        }
        self.init(
            user: user,
            password: components.password,
            host: host,
            port: components.port ?? 5432,
            database: database,
            tls: tls,
            poolSize: poolSize,
            prepareThreshold: prepareThreshold
        )
    }

    /// `postgres://USER@HOST:PORT/DATABASE`: the URL without its password.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// A URL as typed, with any password replaced by `***`, for error messages.
    static func masked(_ text: String) -> String {
        guard let components = URLComponents(string: text), components.password != nil else { return "'\(text)'" }
        var copy = components
        copy.password = "***"
        return "'\(copy.string ?? "")'"
    }
}
