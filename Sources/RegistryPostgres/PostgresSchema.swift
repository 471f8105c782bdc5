import PostgresNIO
import RegistryMigrations
import RegistryStore

/// The PostgreSQL schema: the embedded `migrations/postgres/NNNN_name.sql` files, applied by the
/// same rules as SQLite's — every pending migration in one transaction (so a kill leaves the old
/// schema or the new one), concurrent openers serialised (an advisory lock), a database with a
/// migration this binary does not know refused, and nothing written by a read-only open.
enum PostgresSchema {
    /// The advisory lock key openers serialise on ("fusebox" in ASCII).
    static let lockKey: Int64 = 0x66_7573_6562_6f78

    /// Identifiers this binary knows, in order.
    static var identifiers: [String] { SchemaMigrations.postgres.map(\.identifier) }

    /// Brings the database to the current schema (read-write), or checks that it is current
    /// (read-only).
    /// - Returns: the identifiers applied now.
    /// - Throws: `RegistryError` `schemaTooNew`, `schemaTooOld` (read-only), or a connection error.
    static func prepare(_ session: PostgresSession, access: Registry.Access) throws -> [String] {
        let store = session.address.description
        if access == .readOnly {
            let applied = try session.withConnection(appliedMigrations)
            try checkNotNewer(applied, store: store)
            guard applied == identifiers else {
                throw RegistryError(
                    .schemaTooOld,
                    applied.isEmpty
                        ? "The database \(store) holds no Fusebox store; create one by writing to it (fusebox copy --to)."
                        : "The store \(store) was written by an older fusebox; open it for writing once to upgrade it."
                )
            }
            return []
        }
        return try session.transaction("BEGIN") { connection in
            try connection.query("SELECT pg_advisory_xact_lock($1)", [.integer(lockKey)])
            try connection.query(
                "CREATE TABLE IF NOT EXISTS fusebox_migrations (identifier text PRIMARY KEY, appliedAt double precision NOT NULL)"
            )
            let applied = Set(try appliedMigrations(connection))
            try checkNotNewer(Array(applied), store: store)
            let pending = SchemaMigrations.postgres.filter { !applied.contains($0.identifier) }
            for migration in pending {
                // A migration is several statements; the extended protocol takes one, so they run
                // as one `EXECUTE` inside a DO block (dollar-quoted: the file's text is verbatim).
                try connection.query("DO $fusebox$ BEGIN EXECUTE $migration$\(migration.sql)$migration$; END $fusebox$")
                try connection.query(
                    "INSERT INTO fusebox_migrations (identifier, appliedAt) VALUES ($1, extract(epoch FROM clock_timestamp()))",
                    [.text(migration.identifier)]
                )
                if migration.identifier == Registry.recordDigestMigration && !applied.isEmpty {
                    try Registry.resealRecordDigests(in: PostgresSQL(connection: connection))
                }
            }
            return pending.map(\.identifier)
        }
    }

    /// The applied migrations, in order (none when the database holds no store).
    static func appliedMigrations(_ connection: PostgresSession.Connection) throws -> [String] {
        let exists = try connection.query(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'fusebox_migrations'"
        )
        guard try exists.first?.storeValues().first == .integer(1) else { return [] }
        return try connection.query("SELECT identifier FROM fusebox_migrations ORDER BY identifier").map { row in
            guard case .text(let identifier) = try row.storeValues()[0] else { return "" }
            return identifier
        }
    }

    private static func checkNotNewer(_ applied: [String], store: String) throws {
        if let unknown = Set(applied).subtracting(identifiers).sorted().last {
            throw RegistryError(
                .schemaTooNew,
                "The store \(store) was written by a newer fusebox (it has schema migration '\(unknown)'); upgrade fusebox to open it."
            )
        }
    }
}
