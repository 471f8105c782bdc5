import PostgresNIO
import RegistryStore

/// `StoreSQL` on a connection of a PostgreSQL session, inside the transaction the caller opened: the registry's
/// statements, written once with `?` placeholders, run here with their placeholders renumbered
/// (``numbered(_:)``).
final class PostgresSQL: StoreSQL {
    let connection: PostgresSession.Connection
    /// Rows changed by the last statement, from its command tag.
    private(set) var changesCount = 0

    init(connection: PostgresSession.Connection) { self.connection = connection }

    /// PostgreSQL checks its pages itself (data checksums, when the cluster has them) and offers
    /// clients no whole-database check, so there is nothing to add to the registry's own checks.
    func checkIntegrity() throws -> [String] { ["ok"] }

    /// A probe is an index descent in the server, 7–9 µs each at a million runs (BENCHMARKS.md §14).
    var probesAreCheap: Bool { false }

    func execute(sql: String, arguments: StoreArguments) throws {
        changesCount = try connection.execute(Self.numbered(sql), arguments.values)
    }

    func forEachRow(sql: String, arguments: StoreArguments, _ body: (StoreRow) throws -> Void) throws {
        let rows = try connection.query(Self.numbered(sql), arguments.values)
        guard let first = rows.first else { return }
        let columns = first.map(\.columnName)
        for row in rows { try body(StoreRow(columns: columns, values: try row.storeValues())) }
    }

    /// `sql` with PostgreSQL's placeholders: each `?` becomes `$1`, `$2`, … in order, and each
    /// `?N` becomes `$N`. Quoted text, quoted names and comments are left as they are.
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 8)
        var next = 1
        var quote: Character?
        var comment = false
        var pending = sql[...]
        while let c = pending.popFirst() {
            if comment {
                out.append(c)
                if c == "\n" { comment = false }
            } else if let q = quote {
                out.append(c)
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "-", pending.first == "-" {
                comment = true
                out.append(c)
            } else if c == "?" {
                let digits = pending.prefix { $0.isASCII && $0.isNumber }
                if digits.isEmpty {
                    out += "$\(next)"
                    next += 1
                } else {
                    out += "$\(digits)"
                    pending = pending.dropFirst(digits.count)
                }
            } else {
                out.append(c)
            }
        }
        return out
    }
}
