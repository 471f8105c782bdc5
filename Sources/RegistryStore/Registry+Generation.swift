import GRDB
import GRDBSQLite

/// A value that changes whenever something may have been committed to the store, by this process
/// or by any other. Two equal generations mean nothing was written in between, so whatever was
/// read under the first still holds (``Registry/generation()``).
public struct StoreGeneration: Sendable, Hashable {
    /// `PRAGMA data_version`: changes when another connection commits.
    let dataVersion: Int64
    /// Rows changed through this process's connection (which `data_version` does not count).
    let localChanges: Int64
}

extension Registry {
    /// The store's generation, read without touching a table (one pragma, on the calling thread):
    /// cheap enough for a server to check on every request before trusting what it cached.
    public func generation() throws -> StoreGeneration {
        do {
            return try writer.unsafeReentrantRead { db in
                StoreGeneration(
                    dataVersion: try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0,
                    localChanges: sqlite3_total_changes64(db.sqliteConnection)
                )
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
    }
}
