import Foundation
import FuseboxServer
import FuseboxTestSupport
import HTTPTypes
import RegistryStore
import Testing

/// The API's contract: `openapi.json` describes exactly the routes served, and every operation
/// enforces the scope the document gives it.
@Suite struct ContractTests {
    /// `METHOD /path` → the scope the document requires (nil: no token).
    static func documentedOperations() throws -> [String: TokenScope?] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/FuseboxServer/openapi.json").standardized
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(doc["openapi"] as? String == "3.1.0")
        let paths = try #require(doc["paths"] as? [String: [String: [String: Any]]])
        var operations: [String: TokenScope?] = [:]
        for (path, methods) in paths {
            for (method, operation) in methods {
                operations["\(method.uppercased()) \(path)"] = (operation["x-fusebox-scope"] as? String).flatMap(
                    TokenScope.init(rawValue:)
                )
            }
        }
        return operations
    }

    @Test func theDocumentDescribesExactlyTheRoutesServed() async throws {
        let served = Set(FuseboxServer.routes(of: try memoryRegistry()))
        let documented = Set(try Self.documentedOperations().keys)
        #expect(served.subtracting(documented).sorted() == [], "served but not in openapi.json")
        #expect(documented.subtracting(served).sorted() == [], "in openapi.json but not served")
        #expect(served.count >= 30)
    }

    @Test func theServedDocumentIsTheCommittedOne() async throws {
        let store = try await ServedStore()
        try await store.serve { api in
            let served = try await api.call(.get, "/api/v1/openapi.json", as: nil)
            #expect(served.status == 200)
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../Sources/FuseboxServer/openapi.json").standardized
            let committed = try String(contentsOf: url, encoding: .utf8)
            #expect(String(decoding: served.bytes, as: UTF8.self) == committed)
        }
    }

    /// Every documented operation, with parameters filled in: no token, an unknown one and a revoked
    /// one are 401; a token one scope too low is 403; the scope the document names gets past the
    /// gate (whatever the route then answers). A revoked admin token is refused everywhere.
    @Test func everyOperationEnforcesItsDocumentedScope() async throws {
        let store = try await ServedStore()
        let revoked = try await store.registry.createToken(name: "former", scope: .admin)
        try await store.registry.revokeToken(name: "former")
        let operations = try Self.documentedOperations()
        try await store.serve { api in
            for (operation, scope) in operations.sorted(by: { $0.key < $1.key }) {
                let parts = operation.split(separator: " ", maxSplits: 1)
                let method = HTTPRequest.Method(rawValue: String(parts[0]))!
                let uri = String(parts[1])
                    .replacingOccurrences(of: "{model}", with: "nomodel")
                    .replacingOccurrences(of: "{ref}", with: "1")
                    .replacingOccurrences(of: "{alias}", with: "production")
                    .replacingOccurrences(of: "{id}", with: "99")
                    .replacingOccurrences(of: "{key}", with: "loss")
                    .replacingOccurrences(of: "{name}", with: "nobody")
                guard let scope else {
                    #expect(try await api.call(method, uri, as: nil).status == 200, "\(operation) needs no token")
                    continue
                }
                for token in [nil, "fbx_" + String(repeating: "0", count: 64), revoked] {
                    let answer = try await api.call(method, uri, as: nil, token: token, json: [:])
                    #expect(answer.status == 401, "\(operation) with token \(token ?? "none")")
                    #expect(answer.errorCode == "unauthenticated")
                }
                if let lower = TokenScope.allCases.last(where: { $0 < scope }) {
                    let answer = try await api.call(method, uri, as: lower, json: [:])
                    #expect(answer.status == 403, "\(operation) as \(lower.rawValue)")
                    #expect(answer.errorMessage.contains("needs \(scope.rawValue)"))
                }
                let allowed = try await api.call(method, uri, as: scope, json: [:])
                #expect(![401, 403].contains(allowed.status), "\(operation) as \(scope.rawValue): \(allowed.status)")
            }
        }
    }
}
