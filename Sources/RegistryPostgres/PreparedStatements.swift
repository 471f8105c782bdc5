import Foundation
import PostgresNIO
import RegistryStore

/// The statements one connection has prepared on its server, each under a name of its own
/// (`fusebox_1`, `fusebox_2`, …): a statement's run number `threshold` on a connection (the
/// address's `prepare_threshold`, 2 unless it says otherwise) prepares it there, and from then on
/// each run sends only its values; the server no longer parses and plans it (BENCHMARKS.md §16).
/// The registry's statements are a few hundred fixed texts, so they all end up prepared; texts
/// that vary (a list of as many placeholders as values) mostly run once.
///
/// A statement is known by its text and the kinds of its values: the server fixes a prepared
/// statement's parameter types, so the same text run with a NULL where it had a number is another
/// statement. A statement whose run fails is forgotten (postgres-nio keeps a failed
/// preparation's error for its name), so its next runs prepare it again under a new name.
/// Bounded: at most ``capacity`` names for a connection's life, then its new statements run
/// unnamed, as first runs do.
struct PreparedStatements {
    /// A statement: its text (with `$n` placeholders) and the kind of each value it is run with.
    struct Key: Hashable {
        let sql: String
        let kinds: [UInt8]

        init(sql: String, values: [StoreValue]) {
            self.sql = sql
            kinds = values.map { value in
                switch value {
                case .null: 0
                case .integer: 1
                case .real: 2
                case .text: 3
                case .bytes: 4
                }
            }
        }
    }

    /// The most names one connection gives out (each is a parsed statement held by its server
    /// process, a few kilobytes).
    static let capacity = 512
    /// The most statements whose runs are counted while they are below the threshold.
    static let countedCapacity = 4_096
    /// The longest text prepared, in bytes: longer ones (a batch of thousands of rows) run
    /// unnamed, as their parsing is a small part of their run and their text seldom recurs.
    static let longestText = 16_384

    /// The run that prepares a statement (0: none does).
    let threshold: Int
    private var names: [Key: String] = [:]
    private var runs: [Key: Int] = [:]
    private var namesGiven = 0

    init(threshold: Int) { self.threshold = threshold }

    /// The name to run `key` under, prepared on its first run under it; nil to run it unnamed
    /// (a run below the threshold, or the connection has given out all its names).
    mutating func name(for key: Key) -> String? {
        guard threshold > 0, key.sql.utf8.count <= Self.longestText else { return nil }
        if let name = names[key] { return name }
        guard namesGiven < Self.capacity else { return nil }
        let run = (runs.removeValue(forKey: key) ?? 0) + 1
        guard run >= threshold else {
            if runs.count == Self.countedCapacity { runs.removeAll(keepingCapacity: true) }
            runs[key] = run
            return nil
        }
        namesGiven += 1
        let name = "fusebox_\(namesGiven)"
        names[key] = name
        return name
    }

    /// Forgets `key`'s name after a failed run under it.
    mutating func forget(_ key: Key) { names[key] = nil }
}

/// A statement postgres-nio prepares by name, whose name and text are chosen at run time.
/// postgres-nio reads them from the statement's type, when the statement is submitted, in the
/// submitting task; ``PreparedRun/text`` gives them there, as a task-local value.
struct NamedQuery: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var name: String { PreparedRun.text.name }
    static var sql: String { PreparedRun.text.sql }
    let bindings: PostgresBindings
    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

/// The name and text of the prepared statement the current task submits.
enum PreparedRun {
    struct Text: Sendable {
        var name = ""
        var sql = ""
    }

    @TaskLocal static var text = Text()

    /// `sql`, an INSERT, UPDATE or DELETE without RETURNING, as a query of the number of rows it
    /// changes (`WITH changed AS (… RETURNING 1) SELECT count(*) FROM changed`); nil for another
    /// statement. postgres-nio gives a prepared statement's rows but not its command tag
    /// (`UPDATE 1`), which is where an unnamed statement's count comes from.
    static func counting(_ sql: String) -> String? {
        let head = sql.prefix { !$0.isWhitespace }.uppercased()
        guard head == "INSERT" || head == "UPDATE" || head == "DELETE",
            sql.range(of: "RETURNING", options: .caseInsensitive) == nil
        else { return nil }
        return "WITH changed AS (\(sql) RETURNING 1) SELECT count(*) FROM changed"
    }
}
