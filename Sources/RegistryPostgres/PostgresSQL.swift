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
    ///
    /// It reads UTF-8 bytes, not Characters: every byte it looks for is ASCII, which never occurs
    /// inside a multi-byte character, and a batch of 500 rows holds thousands of placeholders.
    static func numbered(_ sql: String) -> String {
        let (quoteMark, doubleQuote, dash, newline, questionMark, dollar) = (
            UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "\n"), UInt8(ascii: "?"),
            UInt8(ascii: "$")
        )
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 4 + 8)
        var next = 1
        var quote: UInt8?
        var comment = false
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            if comment {
                out.append(c)
                if c == newline { comment = false }
            } else if let q = quote {
                out.append(c)
                if c == q { quote = nil }
            } else if c == quoteMark || c == doubleQuote {
                quote = c
                out.append(c)
            } else if c == dash, i < bytes.count, bytes[i] == dash {
                comment = true
                out.append(c)
            } else if c == questionMark {
                out.append(dollar)
                let digits = bytes[i...].prefix { (0x30...0x39).contains($0) }
                if digits.isEmpty {
                    out += String(next).utf8
                    next += 1
                } else {
                    out += digits
                    i += digits.count
                }
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
