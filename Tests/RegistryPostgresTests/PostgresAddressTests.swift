import Foundation
import FuseboxTestSupport
import RegistryPostgres
import RegistryStore
import Testing

/// `--db` values: a path or a `postgres://` URL, and one clear line for a wrong URL or a server
/// that cannot be reached (these need no server).
struct PostgresAddressTests {
    @Test func aURLIsParsedIntoItsParts() throws {
        let address = try StoreAddress(
            parsing: "postgres://ana:s3cret@db.example:6543/registry?sslmode=require&pool_size=12&prepare_threshold=5"
        )
        guard case .postgres(let postgres) = address else {
            Issue.record("not a PostgreSQL address")
            return
        }
        #expect(
            postgres
                == PostgresAddress(
                    user: "ana",
                    password: "s3cret",
                    host: "db.example",
                    port: 6543,
                    database: "registry",
                    tls: .require,
                    poolSize: 12,
                    prepareThreshold: 5
                )
        )
        #expect(address.description == "postgres://ana@db.example:6543/registry", "never the password")
        let defaults = try PostgresAddress(parsing: "postgresql://fusebox@localhost/fusebox")
        #expect(defaults.port == 5432 && defaults.tls == .prefer && defaults.password == nil && defaults.poolSize == 4)
        #expect(defaults.prepareThreshold == 2)
        #expect(try StoreAddress(parsing: "stores/fusebox.sqlite") == .file("stores/fusebox.sqlite"))
    }

    @Test(arguments: [
        ("postgres://db.example/registry", "has no user"),
        ("postgres://ana@/registry", "has no host"),
        ("postgres://ana@db.example", "has no database name"),
        ("postgres://ana@db.example/", "has no database name"),
        ("postgres://ana:pw@db.example:99999/registry", "has an invalid port"),
        ("mysql://ana@db.example/registry", "'mysql://' is not supported"),
        ("postgres://ana@db.example/registry?sslmode=always", "has sslmode 'always'"),
        ("postgres://ana@db.example/registry?timeout=3", "has an unknown option 'timeout'"),
        ("postgres://ana@db.example/registry?pool_size=0", "has pool_size '0'"),
        ("postgres://ana@db.example/registry?pool_size=many", "has pool_size 'many'"),
        ("postgres://ana@db.example/registry?prepare_threshold=-1", "has prepare_threshold '-1'"),
    ])
    func aWrongURLIsOneLineNamingThePart(url: String, problem: String) throws {
        let error = try #require(throws: RegistryError.self) { try StoreAddress(parsing: url) }
        #expect(error.code == .invalidInput)
        #expect(error.message.contains(problem), "\(error.message)")
        #expect(!error.message.contains("\n") && !error.message.contains(":pw@"), "\(error.message)")
    }

    @Test func aRefusedConnectionIsOneLine() throws {
        // A port nobody listens on: bind one, note it, close it.
        let port = try freePort()
        let address = try PostgresAddress(parsing: "postgres://fusebox@127.0.0.1:\(port)/fusebox?sslmode=disable")
        let error = try #require(throws: RegistryError.self) { try PostgresBackend.open(address, logger: quietLogger) }
        #expect(error.code == .io)
        #expect(
            error.message
                == "Cannot connect to PostgreSQL at 127.0.0.1:\(port): connection refused (is the server running, and on this port?)."
        )
    }

    private func freePort() throws -> Int {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(socket, raw, length) == 0, getsockname(socket, raw, &length) == 0 else {
                    throw PostgresTestError(message: "cannot bind a loopback port")
                }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
