import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import RegistryStore

/// One connection to a PostgreSQL server, used synchronously: each statement waits for its result
/// (on the caller's thread, never an event loop's), as GRDB's calls do for SQLite.
///
/// A connection found closed (the server restarted, the network dropped) is replaced by the next
/// statement or transaction, so a long-running process reconnects when the database comes back.
/// Inside a transaction it never is: a transaction whose connection was lost fails (the server
/// rolls it back), and none of its statements runs on another connection.
final class PostgresSession: @unchecked Sendable {
    let address: PostgresAddress
    private let logger: Logger
    private let lock = NSRecursiveLock()
    private var connection: PostgresConnection?
    /// The connection of the transaction in progress, if any.
    private var transactionConnection: PostgresConnection?
    private var nextConnectionId = 1

    /// Connects, so a wrong address, a refused connection or a refused login is one clear error now.
    init(address: PostgresAddress, logger: Logger) throws {
        self.address = address
        self.logger = logger
        _ = try current()
    }

    deinit { try? connection?.close().wait() }

    /// Runs one statement and returns all its rows.
    @discardableResult
    func query(_ sql: String, _ values: [StoreValue] = []) throws -> [PostgresRow] {
        try run(sql, values).rows
    }

    /// Runs one statement and returns the number of rows it inserted, updated or deleted.
    func execute(_ sql: String, _ values: [StoreValue] = []) throws -> Int {
        try run(sql, values).metadata.rows ?? 0
    }

    private func run(_ sql: String, _ values: [StoreValue]) throws -> PostgresQueryResult {
        lock.lock()
        defer { lock.unlock() }
        let connection = try transactionConnection ?? current()
        do {
            let result = connection.query(PostgresQuery(unsafeSQL: sql, binds: Self.bindings(values)), logger: logger)
            return try wait(for: result, on: connection)
        } catch { throw PostgresFailure.map(error, address: address) }
    }

    /// Waits for a statement's result, as `EventLoopFuture.wait()` does, except that a statement
    /// whose connection has closed (the server ended the session) fails within about two seconds:
    /// under load, postgres-nio can leave such a statement's result pending for ever, and a copy
    /// would hang rather than roll back and say so. A statement that waits on a lock, on an open
    /// connection, keeps waiting.
    private func wait(
        for future: EventLoopFuture<PostgresQueryResult>,
        on connection: PostgresConnection
    ) throws -> PostgresQueryResult {
        let done = DispatchSemaphore(value: 0)
        let outcome = NIOLockedValueBox<Result<PostgresQueryResult, any Error>?>(nil)
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

    /// Runs `body` between `BEGIN` and `COMMIT` (`ROLLBACK` when it throws). The lock keeps other
    /// threads of this process off the connection meanwhile.
    func transaction<T>(_ begin: String, _ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        transactionConnection = try current()
        defer { transactionConnection = nil }
        try query(begin)
        let result: T
        do { result = try body() } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
        try query("COMMIT")
        return result
    }

    /// The open connection, or a new one when there is none or it was closed.
    private func current() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
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
            let fresh = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(),
                configuration: configuration,
                id: nextConnectionId,
                logger: logger
            ).wait()
            nextConnectionId += 1
            connection = fresh
            return fresh
        } catch { throw PostgresFailure.map(error, address: address) }
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

extension PostgresRow {
    /// The row's values as the registry's backends hold them (bigint, double precision, text, bytea;
    /// a boolean as 1 or 0 and a whole numeric as an integer, as SQLite gives them).
    func storeValues() throws -> [StoreValue] {
        try map { cell in
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int8, .int4, .int2: return .integer(try cell.decode(Int64.self))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            case .numeric:
                // sum() of bigints: an integer when whole, as SQLite's sum gives it.
                let number = try cell.decode(Decimal.self)
                let rounded = NSDecimalNumber(decimal: number)
                if number == Decimal(rounded.int64Value) { return .integer(rounded.int64Value) }
                return .real(rounded.doubleValue)
            case .float8, .float4: return .real(try cell.decode(Double.self))
            case .bytea: return .bytes(Array(buffer: try cell.decode(ByteBuffer.self)))
            default: return .text(try cell.decode(String.self))
            }
        }
    }
}
