/// The SQL half of the seam between the registry and a database: one connection inside one
/// transaction, as the registry's logic (workflows, gates, the query compiler, integrity checks)
/// speaks to it. ``SQLiteSQL`` implements it over GRDB; the RegistryPostgres module over postgres-nio.
///
/// Statements are written once, in the SQL both databases understand: `?` placeholders (a backend
/// renumbers them as its driver needs), unquoted camelCase names (PostgreSQL folds them to lower
/// case, so ``StoreRow`` looks columns up without regard to case), `INSERT … ON CONFLICT`, integers
/// for booleans. What differs per database — the connection, placeholders, locking, where blob
/// bytes live — sits below this protocol.
public protocol StoreSQL: AnyObject {
    /// Runs one statement with its arguments bound to the `?` placeholders in order.
    func execute(sql: String, arguments: StoreArguments) throws
    /// Calls `body` with each row the query returns, in order; memory stays bounded by one row.
    func forEachRow(sql: String, arguments: StoreArguments, _ body: (StoreRow) throws -> Void) throws
    /// The number of rows the last ``execute(sql:arguments:)`` inserted, updated or deleted.
    var changesCount: Int { get }
    /// The database's own check of its files and indexes: `["ok"]`, or one line per problem.
    func checkIntegrity() throws -> [String]
    /// True when looking a row up by its primary key costs about a microsecond (SQLite, a B-tree
    /// descent in this process); false when it is a server's index descent of several (PostgreSQL),
    /// where joining with a filter's whole matching set, read from a covering index, costs less.
    /// The search's ordered walk chooses how to test its candidates by it.
    var probesAreCheap: Bool { get }
}

extension StoreSQL {
    /// Runs `body` inside a savepoint: what it wrote is kept when it returns true, and undone when
    /// it returns false or throws (the enclosing transaction goes on either way).
    public func inSavepoint(_ body: () throws -> Bool) throws {
        try execute(sql: "SAVEPOINT fusebox_savepoint")
        let keep: Bool
        do { keep = try body() } catch {
            try execute(sql: "ROLLBACK TO SAVEPOINT fusebox_savepoint")
            try execute(sql: "RELEASE SAVEPOINT fusebox_savepoint")
            throw error
        }
        if !keep { try execute(sql: "ROLLBACK TO SAVEPOINT fusebox_savepoint") }
        try execute(sql: "RELEASE SAVEPOINT fusebox_savepoint")
    }

    /// Runs an `INSERT` of one row into a table with a generated `id`, returning the id: one
    /// statement (`INSERT … RETURNING id`, which both databases understand), not a second query.
    public func insertReturningID(sql: String, arguments: StoreArguments) throws -> Int64 {
        guard let id = try fetchOne(Int64.self, sql: sql + " RETURNING id", arguments: arguments) else {
            throw RegistryError(.io, "The database returned no id for a new row.")
        }
        return id
    }

    /// Runs `insert` (`INSERT INTO t (a, b, …)`) with `rows` as its `VALUES (?, ?, …), (…), …`,
    /// followed by `tail` (an `ON CONFLICT …` clause, say): one statement for up to 500 rows,
    /// within both databases' limits on bound values, instead of one per row. No rows, no statement.
    public func insertRows(_ insert: String, _ rows: [[StoreValue]], then tail: String = "") throws {
        guard let width = rows.first?.count else { return }
        let size = max(1, min(500, 32_766 / width))
        let row = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
        for start in stride(from: 0, to: rows.count, by: size) {
            let slice = rows[start..<min(start + size, rows.count)]
            try execute(
                sql: "\(insert) VALUES \(Array(repeating: row, count: slice.count).joined(separator: ", ")) \(tail)",
                arguments: StoreArguments(slice.flatMap { $0 })
            )
        }
    }

    /// Runs one statement that takes no arguments.
    public func execute(sql: String) throws { try execute(sql: sql, arguments: []) }

    /// Every row the query returns.
    public func fetchAll(_: StoreRow.Type, sql: String, arguments: StoreArguments = []) throws -> [StoreRow] {
        var rows: [StoreRow] = []
        try forEachRow(sql: sql, arguments: arguments) { rows.append($0) }
        return rows
    }

    /// The first row the query returns, or nil.
    public func fetchOne(_: StoreRow.Type, sql: String, arguments: StoreArguments = []) throws -> StoreRow? {
        var first: StoreRow?
        try forEachRow(sql: sql, arguments: arguments) { row in if first == nil { first = row } }
        return first
    }

    /// The first column of every row; a NULL or a value of another type throws ``RegistryError`` `corruptData`.
    public func fetchAll<Value: StoreConvertible>(
        _: Value.Type,
        sql: String,
        arguments: StoreArguments = []
    ) throws -> [Value] {
        var values: [Value] = []
        try forEachRow(sql: sql, arguments: arguments) { row in
            values.append(try row.decode(Value.self, at: 0))
        }
        return values
    }

    /// The first column of the first row, or nil when there is no row or it holds NULL.
    public func fetchOne<Value: StoreConvertible>(
        _: Value.Type,
        sql: String,
        arguments: StoreArguments = []
    ) throws -> Value? {
        guard let row = try fetchOne(StoreRow.self, sql: sql, arguments: arguments), row.values[0] != .null else {
            return nil
        }
        return try row.decode(Value.self, at: 0)
    }
}
