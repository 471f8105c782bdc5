import Foundation
import Logging
import RegistryPostgres
import RegistryStore

/// Where the registry benchmark keeps each section's store: a file in the bench folder, or, with
/// `--db postgres://…`, a database of its own on that server (made afresh with `createdb`-like
/// SQL through `psql`, dropped when a later run makes it again), so every figure is measured on a
/// new store of the chosen kind.
struct BenchStores {
    let dir: String
    /// The server's URL (the database `CREATE DATABASE` runs in), or nil for store files.
    let server: String?
    let logger: Logger

    var isPostgres: Bool { server != nil }

    /// What `--db` takes for the store `name`.
    func address(_ name: String) -> String {
        guard let server, var components = URLComponents(string: server) else { return "\(dir)/\(name).sqlite" }
        components.path = "/" + databaseName(name)
        return components.string ?? server
    }

    /// A new, empty store `name`, opened read-write.
    func open(_ name: String) throws -> Registry {
        remove(name)
        if let server { try psql(server, "CREATE DATABASE \(databaseName(name))") }
        return try Registry.open(url: address(name), logger: logger)
    }

    /// Removes the store `name`: its database, or its file with write-ahead log and object folder.
    func remove(_ name: String) {
        if let server {
            try? psql(server, "DROP DATABASE IF EXISTS \(databaseName(name)) WITH (FORCE)")
        } else {
            for suffix in ["", "-wal", "-shm", "-objects"] {
                try? FileManager.default.removeItem(atPath: address(name) + suffix)
            }
        }
    }

    /// After a bulk load into PostgreSQL: `VACUUM ANALYZE`, what autovacuum does a while later on
    /// a server in service (statistics for the planner, hint bits and the visibility map set), so
    /// the queries timed next meet the store as it will be, not the minutes after the load.
    func settle(_ name: String) throws {
        guard isPostgres else { return }
        try psql(address(name), "VACUUM ANALYZE")
    }

    private func databaseName(_ name: String) -> String {
        "fusebox_bench_" + name.map { $0.isLetter || $0.isNumber ? $0 : "_" }
    }

    /// Runs `sql` through `psql` on `url` with only the option libpq shares with Fusebox
    /// (`sslmode`): libpq refuses Fusebox's own (`pool_size`, `prepare_threshold`).
    private func psql(_ url: String, _ sql: String) throws {
        var libpqURL = url
        if var components = URLComponents(string: url), let items = components.queryItems {
            components.queryItems = items.filter { $0.name == "sslmode" }
            libpqURL = components.string ?? url
        }
        _ = try Child.run("psql", [libpqURL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
    }
}
