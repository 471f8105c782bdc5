import Foundation
import FuseboxServer
import FuseboxTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RegistryStore

/// A store on disk with tokens of every scope, served live on loopback for one test.
struct ServedStore {
    let folder = TemporaryDirectory("fusebox-api")
    let registry: Registry
    let tokens: [TokenScope: String]

    var path: String { folder.file("store.sqlite") }

    init() async throws {
        registry = try Registry.open(atPath: folder.file("store.sqlite"), logger: quietLogger)
        var tokens: [TokenScope: String] = [:]
        for scope in TokenScope.allCases {
            tokens[scope] = try await registry.acting(as: "setup").createToken(name: scope.rawValue + "r", scope: scope)
        }
        self.tokens = tokens
    }

    /// Runs `body` against the application served on a free loopback port.
    func serve<T: Sendable>(
        limits: FuseboxServer.Limits = FuseboxServer.Limits(),
        _ body: @Sendable (APIClient) async throws -> T
    ) async throws -> T {
        let app = FuseboxServer.application(
            registry: registry,
            host: "127.0.0.1",
            port: 0,
            authenticate: true,
            limits: limits,
            logger: quietLogger
        )
        let tokens = tokens
        return try await app.test(.live) { client in try await body(APIClient(client: client, tokens: tokens)) }
    }

    /// The store's bytes (main file and write-ahead log), to show a request changed nothing.
    func bytes() -> [Data?] { ["", "-wal"].map { FileManager.default.contents(atPath: path + $0) } }
}

/// One answer: status, headers, body bytes, and the body parsed as JSON when it is JSON.
struct APIResponse: Sendable {
    let status: Int
    let headers: HTTPFields
    let bytes: [UInt8]

    var json: Any? { try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String { (object["error"] as? [String: Any])?["message"] as? String ?? "" }
}

struct APIClient: Sendable {
    let client: any TestClientProtocol
    let tokens: [TokenScope: String]

    /// A request as a token of `scope` (or `token` verbatim, or none), with a JSON or raw body.
    func call(
        _ method: HTTPRequest.Method,
        _ uri: String,
        as scope: TokenScope? = .admin,
        token: String? = nil,
        json: Any? = nil,
        raw: [UInt8]? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = extra
        if let bearer = token ?? scope.flatMap({ tokens[$0] }) { headers[.authorization] = "Bearer \(bearer)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
            headers[.contentType] = "application/json"
        } else if let raw {
            body = ByteBuffer(bytes: raw)
        }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        return APIResponse(
            status: Int(response.status.code),
            headers: response.headers,
            bytes: Array(response.body.readableBytesView)
        )
    }
}
