import FuseboxTestSupport
import Testing

@testable import RegistryPostgres
@testable import RegistryStore

/// Prepared statements on PostgreSQL: which run prepares a statement, under which name, and that
/// a prepared statement gives what the unnamed one gives (rows, change counts, NULLs), on a real
/// server.
struct PreparedStatementsTests {
    typealias Key = PreparedStatements.Key

    @Test func theThresholdRunPreparesAndLaterRunsReuseTheName() {
        var statements = PreparedStatements(threshold: 2)
        let byNumber = Key(sql: "SELECT $1", values: [.integer(1)])
        let byNull = Key(sql: "SELECT $1", values: [.null])
        #expect(statements.name(for: byNumber) == nil, "the first run is unnamed")
        #expect(statements.name(for: byNumber) == "fusebox_1")
        #expect(statements.name(for: Key(sql: "SELECT $1", values: [.integer(9)])) == "fusebox_1", "values may differ")
        #expect(statements.name(for: byNull) == nil, "a NULL where a number was is another statement")
        #expect(statements.name(for: byNull) == "fusebox_2")

        statements.forget(byNumber)
        #expect(statements.name(for: byNumber) == nil, "forgotten after a failed run: counted afresh")
        #expect(statements.name(for: byNumber) == "fusebox_3", "and prepared under a new name")
    }

    @Test func thresholdsZeroAndOneLongTextsAndTheCapacity() {
        var never = PreparedStatements(threshold: 0)
        var first = PreparedStatements(threshold: 1)
        let key = Key(sql: "SELECT 1", values: [])
        for _ in 0..<3 { #expect(never.name(for: key) == nil) }
        #expect(first.name(for: key) == "fusebox_1")

        let long = Key(sql: "SELECT " + String(repeating: "1 + ", count: 5_000) + "1", values: [])
        #expect(first.name(for: long) == nil && first.name(for: long) == nil, "too long to be worth a name")

        for number in 2...PreparedStatements.capacity {
            #expect(first.name(for: Key(sql: "SELECT \(number)", values: [])) == "fusebox_\(number)")
        }
        #expect(first.name(for: Key(sql: "SELECT 0", values: [])) == nil, "the connection's names are spent")
        #expect(first.name(for: key) == "fusebox_1", "those given out stay")
    }

    @Test func commandsAreCountedByAQueryOfTheirRows() {
        #expect(
            PreparedRun.counting("UPDATE item SET score = $1")
                == "WITH changed AS (UPDATE item SET score = $1 RETURNING 1) SELECT count(*) FROM changed"
        )
        #expect(PreparedRun.counting("delete FROM item") != nil)
        #expect(PreparedRun.counting("INSERT INTO item (x) VALUES ($1) RETURNING id") == nil)
        #expect(PreparedRun.counting("SELECT 1") == nil)
        #expect(PreparedRun.counting("WITH x AS (SELECT 1) INSERT INTO item SELECT * FROM x") == nil)
    }

    @Test(.enabled(if: PostgresTestServer.url != nil || isCI, "\(PostgresTestServer.skipReason)"))
    func preparedRunsGiveWhatUnnamedRunsGive() throws {
        try Self.withSession { session in
            try session.transaction("BEGIN") { connection in
                try connection.query("CREATE TABLE item (id bigint PRIMARY KEY, score double precision)")
                let db = PostgresSQL(connection: connection)
                for id in 1...3 {
                    try db.execute(sql: "INSERT INTO item (id, score) VALUES (?, ?)", arguments: [id, nil])
                    #expect(db.changesCount == 1)
                }
                var changes: [Int] = []
                for score in [0.5, 1.5, 2.5] {
                    try db.execute(sql: "UPDATE item SET score = ? WHERE id >= ?", arguments: [score, 2])
                    changes.append(db.changesCount)
                    try db.execute(sql: "UPDATE item SET score = ? WHERE id > ?", arguments: [score, 99])
                    changes.append(db.changesCount)
                }
                #expect(changes == [2, 0, 2, 0, 2, 0])
                var found: [Double?] = []
                for id in [1, 3, 1] {
                    let row = try db.fetchOne(
                        StoreRow.self,
                        sql: "SELECT score FROM item WHERE id = ?",
                        arguments: [id]
                    )
                    found.append(row?["score"])
                }
                #expect(found == [nil, 2.5, nil])

                let prepared = try db.fetchAll(
                    StoreRow.self,
                    sql:
                        "SELECT name, statement, parameter_types::text AS types FROM pg_prepared_statements ORDER BY name"
                )
                let byText = Dictionary(
                    uniqueKeysWithValues: prepared.map { ($0["statement"] as String, $0["types"] as String) }
                )
                #expect(prepared.allSatisfy { ($0["name"] as String).hasPrefix("fusebox_") }, "\(prepared)")
                #expect(byText["SELECT score FROM item WHERE id = $1"] == "{bigint}")
                #expect(
                    byText[
                        "WITH changed AS (UPDATE item SET score = $1 WHERE id >= $2 RETURNING 1) SELECT count(*) FROM changed"
                    ]
                        == "{\"double precision\",bigint}"
                )
                #expect(
                    byText[
                        "WITH changed AS (INSERT INTO item (id, score) VALUES ($1, $2) RETURNING 1) SELECT count(*) FROM changed"
                    ]
                        == "{bigint,\"double precision\"}",
                    "a NULL's type is the server's to infer, from its column"
                )
            }
        }
    }

    @Test(.enabled(if: PostgresTestServer.url != nil || isCI, "\(PostgresTestServer.skipReason)"))
    func aStatementWhosePreparationFailedIsPreparedAgainLater() throws {
        try Self.withSession(poolSize: 1) { session in
            try session.withConnection { connection in
                for _ in 1...2 {
                    #expect(throws: RegistryError.self) { try connection.query("SELECT count(*) FROM later") }
                }
                try connection.query("CREATE TABLE later (x int)")
                for _ in 1...3 {
                    #expect(try connection.query("SELECT count(*) FROM later").first?.storeValues() == [.integer(0)])
                }
            }
        }
    }

    @Test(.enabled(if: PostgresTestServer.url != nil || isCI, "\(PostgresTestServer.skipReason)"))
    func thresholdZeroPreparesNothing() throws {
        try Self.withSession(prepareThreshold: 0) { session in
            try session.withConnection { connection in
                for _ in 1...3 { try connection.query("SELECT 1") }
                #expect(
                    try connection.query("SELECT count(*) FROM pg_prepared_statements").first?.storeValues() == [
                        .integer(0)
                    ]
                )
            }
        }
    }

    /// Runs `body` with a session on a new database of the test server.
    private static func withSession(
        poolSize: Int = PostgresAddress.defaultPoolSize,
        prepareThreshold: Int = PostgresAddress.defaultPrepareThreshold,
        _ body: (PostgresSession) throws -> Void
    ) throws {
        let url = try PostgresTestServer.createDatabase()
        defer { PostgresTestServer.drop(url) }
        var address = try PostgresAddress(parsing: url)
        address.poolSize = poolSize
        address.prepareThreshold = prepareThreshold
        try body(try PostgresSession(address: address, logger: quietLogger))
    }
}
