import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import RegistryStore

/// A pool of connections to one PostgreSQL server, used synchronously: each statement waits for
/// its result (on the caller's thread, never an event loop's), as GRDB's calls do for SQLite.
///
/// Each transaction takes a ``Connection`` of its own from the pool for its whole length, so the
/// requests of a server read and wait for the writer lock side by side, up to the address's
/// `poolSize` at once (more wait for a connection to come back). Connections are opened when
/// first needed and kept.
///
/// A connection found closed (the server restarted, the network dropped) is replaced when it is
/// next taken, so a long-running process reconnects when the database comes back. Inside a
/// transaction it never is: a transaction whose connection was lost fails (the server rolls it
/// back), and none of its statements runs on another connection.
final class PostgresSession: @unchecked Sendable {
    let address: PostgresAddress
    private let logger: Logger
    /// Guards `idle`, `taken` and `nextConnectionId`; signalled when a connection comes back.
    private let pool = NSCondition()
    private var idle: [PooledConnection] = []
    private var taken = 0
    private var nextConnectionId = 1

    /// Connects, so a wrong address, a refused connection or a refused login is one clear error now.
    init(address: PostgresAddress, logger: Logger) throws {
        self.address = address
        self.logger = logger
        try withConnection { _ in }
    }

    deinit { for pooled in idle { try? pooled.connection.close().wait() } }

    /// One read-only statement on a connection of its own, outside any transaction (run again,
    /// once, on a new connection when the one taken turns out closed).
    @discardableResult
    func query(_ sql: String, _ values: [StoreValue] = []) throws -> [PostgresRow] {
        try withConnection(first: sql, values) { rows, _ in rows }
    }

    /// Runs `body` between `begin` (`BEGIN …`) and `COMMIT` (`ROLLBACK` when it throws), every
    /// statement on the one connection `body` is given.
    func transaction<T>(_ begin: String, _ body: (Connection) throws -> T) throws -> T {
        try withConnection(first: begin) { _, connection in
            let result: T
            do { result = try body(connection) } catch {
                _ = try? connection.query("ROLLBACK")
                throw error
            }
            try connection.query("COMMIT")
            return result
        }
    }

    /// Runs `body` with a connection taken from the pool, given back afterwards.
    func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection = try take()
        defer { giveBack(connection) }
        return try body(Connection(pooled: connection, address: address, logger: logger))
    }

    /// Runs `statement` on a connection taken from the pool, then `body` with its rows on the same
    /// connection. An idle connection the server closed (a restart) can still look open until its
    /// first statement fails; as nothing of the work has run then, it runs once more on a new one.
    private func withConnection<T>(
        first statement: String,
        _ values: [StoreValue] = [],
        _ body: ([PostgresRow], Connection) throws -> T
    ) throws -> T {
        for attempt in 1...2 {
            let taken = try take()
            defer { giveBack(taken) }
            let connection = Connection(pooled: taken, address: address, logger: logger)
            let rows: [PostgresRow]
            do { rows = try connection.query(statement, values) } catch  where attempt == 1 && taken.isClosed {
                continue
            }
            return try body(rows, connection)
        }
        preconditionFailure("the second attempt returns or throws")
    }

    /// An idle open connection, else a new one while fewer than `poolSize` are taken, else the
    /// first one given back.
    private func take() throws -> PooledConnection {
        pool.lock()
        while true {
            while let connection = idle.popLast() {
                if !connection.isClosed {
                    taken += 1
                    pool.unlock()
                    return connection
                }
            }
            if taken < address.poolSize { break }
            pool.wait()
        }
        taken += 1
        let id = nextConnectionId
        nextConnectionId += 1
        pool.unlock()
        do {
            return try connect(id: id)
        } catch {
            giveBack(nil)
            throw error
        }
    }

    private func giveBack(_ connection: PooledConnection?) {
        pool.lock()
        taken -= 1
        if let connection, !connection.isClosed { idle.append(connection) }
        pool.signal()
        pool.unlock()
    }

    private func connect(id: Int) throws -> PooledConnection {
        var configuration = PostgresConnection.Configuration(
            host: address.host,
            port: address.port,
            username: address.user,
            password: address.password,
            database: address.database,
            tls: try Self.tls(address.tls)
        )
        configuration.options.connectTimeout = .seconds(10)
        do {
            return PooledConnection(
                try PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.next(),
                    configuration: configuration,
                    id: id,
                    logger: logger
                ).wait(),
                prepareThreshold: address.prepareThreshold
            )
        } catch { throw PostgresFailure.map(error, address: address) }
    }

    /// A connection of the pool with what it keeps for its life: the statements it prepared,
    /// and an executor on its event loop for the tasks that run them. One holder at a time (the
    /// pool hands it out to one transaction or statement).
    final class PooledConnection: @unchecked Sendable {
        let connection: PostgresConnection
        let executor: EventLoopTaskExecutor
        var statements: PreparedStatements
        var isClosed: Bool { connection.isClosed }

        init(_ connection: PostgresConnection, prepareThreshold: Int) {
            self.connection = connection
            statements = PreparedStatements(threshold: prepareThreshold)
            executor = EventLoopTaskExecutor(eventLoop: connection.eventLoop)
        }
    }

    /// One connection of the pool, taken for a transaction (or a statement): what runs through it
    /// runs in order, in that transaction.
    struct Connection {
        let pooled: PooledConnection
        let address: PostgresAddress
        let logger: Logger
        var connection: PostgresConnection { pooled.connection }

        /// Runs one statement and returns all its rows.
        @discardableResult
        func query(_ sql: String, _ values: [StoreValue] = []) throws -> [PostgresRow] {
            let key = PreparedStatements.Key(sql: sql, values: values)
            guard let name = pooled.statements.name(for: key) else { return try run(sql, values).rows }
            return try runPrepared(key, name, values)
        }

        /// Runs one statement and returns the number of rows it inserted, updated or deleted.
        func execute(_ sql: String, _ values: [StoreValue] = []) throws -> Int {
            // (A long text is never prepared: it is not searched for RETURNING either.)
            if sql.utf8.count <= PreparedStatements.longestText, let counting = PreparedRun.counting(sql) {
                let key = PreparedStatements.Key(sql: counting, values: values)
                if let name = pooled.statements.name(for: key) {
                    return try runPrepared(key, name, values).first.map { Int(try $0.decode(Int64.self)) } ?? 0
                }
            }
            return try run(sql, values).metadata.rows ?? 0
        }

        /// Runs a statement unnamed: the server parses and plans it for this run only.
        private func run(_ sql: String, _ values: [StoreValue]) throws -> PostgresQueryResult {
            do {
                let result = connection.query(
                    PostgresQuery(unsafeSQL: sql, binds: PostgresSession.bindings(values)),
                    logger: logger
                )
                return try wait(for: result)
            } catch { throw PostgresFailure.map(error, address: address) }
        }

        /// Runs the statement `key` by `name` in a task on the connection's event loop: postgres-nio
        /// prepares it on its first run under that name.
        private func runPrepared(
            _ key: PreparedStatements.Key,
            _ name: String,
            _ values: [StoreValue]
        ) throws -> [PostgresRow] {
            let promise = connection.eventLoop.makePromise(of: [PostgresRow].self)
            let statement = NamedQuery(bindings: PostgresSession.bindings(values))
            let (connection, logger) = (connection, logger)
            _Concurrency.Task(executorPreference: pooled.executor) {
                do {
                    let rows = try await PreparedRun.$text.withValue(PreparedRun.Text(name: name, sql: key.sql)) {
                        try await connection.execute(statement, logger: logger)
                    }
                    var collected: [PostgresRow] = []
                    for try await row in rows { collected.append(row) }
                    promise.succeed(collected)
                } catch { promise.fail(error) }
            }
            do { return try wait(for: promise.futureResult) } catch {
                pooled.statements.forget(key)
                throw PostgresFailure.map(error, address: address)
            }
        }

        /// Waits for a statement's result, as `EventLoopFuture.wait()` does, except that a statement
        /// whose connection has closed (the server ended the session) fails within about two seconds:
        /// under load, postgres-nio can leave such a statement's result pending for ever, and a copy
        /// would hang rather than roll back and say so. A statement that waits on a lock, on an open
        /// connection, keeps waiting.
        private func wait<T: Sendable>(for future: EventLoopFuture<T>) throws -> T {
            let done = DispatchSemaphore(value: 0)
            let outcome = NIOLockedValueBox<Result<T, any Error>?>(nil)
            future.whenComplete { result in
                outcome.withLockedValue { $0 = result }
                done.signal()
            }
            var closedChecks = 0
            while done.wait(timeout: .now() + .seconds(1)) == .timedOut {
                if connection.isClosed { closedChecks += 1 }
                if closedChecks == 2 { throw PostgresFailure.lostConnection(address: address) }
            }
            return try outcome.withLockedValue { $0! }.get()
        }
    }

    private static func tls(_ mode: PostgresAddress.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    static func bindings(_ values: [StoreValue]) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let integer): bindings.append(integer)
            case .real(let real): bindings.append(real)
            case .text(let text): bindings.append(text)
            case .bytes(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        return bindings
    }
}
