import GRDB
import RegistryMigrations

/// The store's schema: the embedded `migrations/NNNN_name.sql` files.
///
/// GRDB's `DatabaseMigrator` commits each migration in its own transaction, so a process killed
/// between two of them would leave a half-upgraded store. Fusebox applies **all** pending
/// migrations in one `BEGIN IMMEDIATE` transaction instead (also serialising concurrent openers),
/// and records them in GRDB's own `grdb_migrations` table, so `DatabaseMigrator`'s queries
/// (`appliedIdentifiers`, `hasBeenSuperseded`, `hasCompletedMigrations`) keep their meaning.
enum Schema {
    /// A migrator holding the embedded migrations, used for its bookkeeping queries.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        for migration in SchemaMigrations.all {
            migrator.registerMigration(migration.identifier) { db in try db.execute(sql: migration.sql) }
        }
        return migrator
    }()

    /// Identifiers this binary knows, in order.
    static var identifiers: [String] { SchemaMigrations.all.map(\.identifier) }

    /// Throws `schemaTooNew` when `applied` holds a migration this binary does not know.
    static func checkNotNewer(applied: [String], path: String) throws {
        if let unknown = Set(applied).subtracting(identifiers).sorted().last {
            throw RegistryError(
                .schemaTooNew,
                "The store '\(path)' was written by a newer fusebox (it has schema migration '\(unknown)'); upgrade fusebox to open it."
            )
        }
    }

    /// Brings the database to the current schema in one transaction.
    /// - Returns: the identifiers that were applied (empty when the store was current).
    /// - Throws: ``RegistryError`` `schemaTooNew` when the store has migrations this binary does not know.
    static func migrate(_ db: Database, path: String) throws -> [String] {
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
        let applied = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
        try checkNotNewer(applied: Array(applied), path: path)
        let pending = SchemaMigrations.all.filter { !applied.contains($0.identifier) }
        for migration in pending {
            if migration.identifier == RecordDigests.migration {
                // Its Swift step: reseal what the views still vouch for, before the views go.
                try RecordDigests.reseal(in: SQLiteSQL(db, budget: StatementBudget()), keepingDamage: true)
            }
            try db.execute(sql: migration.sql)
            try db.execute(
                sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)",
                arguments: [migration.identifier]
            )
        }
        if !pending.isEmpty {
            try db.checkForeignKeys()
        }
        return pending.map(\.identifier)
    }
}
