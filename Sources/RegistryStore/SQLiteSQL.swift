import Foundation
import GRDB

/// ``StoreSQL`` on one GRDB connection, inside the transaction the registry opened.
///
/// Every statement is prepared once per connection and reused (GRDB's statement cache), so the
/// hot paths — a metric logged, an alias resolved — never parse SQL twice. The cache is bounded by
/// `StatementBudget`: a store queried with ever new SQL text (search filters of every shape)
/// does not grow without end.
public final class SQLiteSQL: StoreSQL {
    /// The GRDB connection, for what only SQLite has (incremental blob I/O, SQL functions,
    /// `PRAGMA`s); the registry's portable logic never uses it.
    public let database: Database
    let budget: StatementBudget
    /// The cached statements whose rows are being stepped through.
    private var iterating: Set<String> = []

    init(_ database: Database, budget: StatementBudget) {
        self.database = database
        self.budget = budget
    }

    /// The database's count of rows changed by the last statement.
    public var changesCount: Int { database.changesCount }

    /// True: a probe is a B-tree descent in this process, about 2 µs at a million runs.
    public var probesAreCheap: Bool { true }

    /// `PRAGMA integrity_check`: every page, index and constraint of the file.
    public func checkIntegrity() throws -> [String] {
        try String.fetchAll(database, sql: "PRAGMA integrity_check")
    }

    /// Runs a statement; text holding several statements (no arguments) runs them in order.
    public func execute(sql: String, arguments: StoreArguments) throws {
        if arguments.values.isEmpty {
            try database.execute(sql: sql)
        } else {
            try statement(sql).execute(arguments: Self.bindings(arguments))
        }
    }

    /// Steps through the rows of a cached statement (a fresh one when the cached one is already
    /// being stepped through, by a query run from inside `body`).
    public func forEachRow(sql: String, arguments: StoreArguments, _ body: (StoreRow) throws -> Void) throws {
        let nested = iterating.contains(sql)
        let statement = nested ? try database.makeStatement(sql: sql) : try statement(sql)
        if !nested { iterating.insert(sql) }
        defer { if !nested { iterating.remove(sql) } }
        let columns = statement.columnNames
        let rows = try Row.fetchCursor(statement, arguments: Self.bindings(arguments))
        while let row = try rows.next() {
            try body(StoreRow(columns: columns, values: row.databaseValues.map(Self.storeValue)))
        }
    }

    private func statement(_ sql: String) throws -> Statement {
        if budget.spend(on: sql) { database.releaseMemory() }
        return try database.cachedStatement(sql: sql)
    }

    /// A GRDB value as a ``StoreValue``.
    static func storeValue(_ value: DatabaseValue) -> StoreValue {
        switch value.storage {
        case .null: .null
        case .int64(let integer): .integer(integer)
        case .double(let real): .real(real)
        case .string(let text): .text(text)
        case .blob(let data): .bytes([UInt8](data))
        }
    }

    /// ``StoreArguments`` as GRDB binds them.
    static func bindings(_ arguments: StoreArguments) -> StatementArguments {
        StatementArguments(
            arguments.values.map { value -> (any DatabaseValueConvertible)? in
                switch value {
                case .null: nil
                case .integer(let integer): integer
                case .real(let real): real
                case .text(let text): text
                case .bytes(let bytes): Data(bytes)
                }
            }
        )
    }
}

/// Bounds the statements a connection keeps prepared: after `capacity` distinct SQL texts the
/// cache is emptied and starts again, so the statements in use come back at once and a flood of
/// one-off queries costs one re-preparation each, never unbounded memory.
final class StatementBudget: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: Set<String> = []
    private let capacity: Int

    init(capacity: Int = 256) { self.capacity = capacity }

    /// Records `sql`; true when the cache must be emptied first.
    func spend(on sql: String) -> Bool {
        lock.withLock {
            if seen.contains(sql) { return false }
            if seen.count < capacity {
                seen.insert(sql)
                return false
            }
            seen = [sql]
            return true
        }
    }
}
