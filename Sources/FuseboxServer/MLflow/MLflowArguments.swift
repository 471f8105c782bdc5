import Foundation
import Hummingbird

/// A request's arguments as MLflow's client sends them: the query string for GET (a repeated key
/// is a list), a JSON object body otherwise (query parameters are read too).
struct MLflowArguments {
    private let values: [String: Any]

    init(_ values: [String: Any]) { self.values = values }

    static func of(_ request: Request) async throws -> MLflowArguments {
        var values: [String: Any] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts[0].removingPercentEncoding else { continue }
            let value =
                parts.count == 2 ? parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" : ""
            if let earlier = values[key] {
                values[key] = ((earlier as? [Any]) ?? [earlier]) + [value]
            } else {
                values[key] = value
            }
        }
        if request.method != .get {
            let body = try await request.body.collect(upTo: FuseboxServer.maxJSONBody)
            if body.readableBytes > 0 {
                let object: Any
                do {
                    object = try JSONSerialization.jsonObject(
                        with: Data(body.readableBytesView),
                        options: [.fragmentsAllowed]
                    )
                } catch {
                    throw MLflowError(code: "MALFORMED_REQUEST", message: "The body is not JSON.", status: .badRequest)
                }
                guard let fields = object as? [String: Any] else {
                    throw MLflowError(
                        code: "MALFORMED_REQUEST",
                        message: "The body is not a JSON object.",
                        status: .badRequest
                    )
                }
                values.merge(fields) { _, body in body }
            }
        }
        return MLflowArguments(values)
    }

    func has(_ key: String) -> Bool { values[key] != nil && !(values[key] is NSNull) }

    /// A text argument (a number is given as its text).
    func string(_ key: String) -> String? {
        switch values[key] {
        case let s as String: s
        case let list as [Any]: (list.first as? String)
        case let n as NSNumber: n.stringValue
        default: nil
        }
    }

    func require(_ key: String) throws -> String {
        guard let value = string(key), !value.isEmpty else {
            throw MLflowError.invalid("Missing value for required parameter '\(key)'.")
        }
        return value
    }

    /// A whole number, sent as a JSON number or as text (proto3 JSON writes int64 as text).
    func int64(_ key: String) throws -> Int64? {
        guard has(key) else { return nil }
        if let n = values[key] as? NSNumber, let v = Int64(exactly: n.doubleValue) {
            return v
        }
        if let s = string(key), let v = Int64(s) { return v }
        throw MLflowError.invalid("Parameter '\(key)' must be a whole number, got '\(string(key) ?? "?")'.")
    }

    func double(_ key: String) throws -> Double? {
        guard has(key) else { return nil }
        if let n = values[key] as? NSNumber { return n.doubleValue }
        if let s = string(key), let v = Double(s) { return v }
        throw MLflowError.invalid("Parameter '\(key)' must be a number, got '\(string(key) ?? "?")'.")
    }

    func bool(_ key: String) -> Bool? {
        switch values[key] {
        case let n as NSNumber: n.boolValue
        case let s as String: s == "true" || s == "True" || s == "1"
        default: nil
        }
    }

    /// A list of texts (a single value is a list of one).
    func strings(_ key: String) -> [String] {
        switch values[key] {
        case let list as [Any]: list.compactMap { ($0 as? String) ?? ($0 as? NSNumber)?.stringValue }
        case let s as String: [s]
        case let n as NSNumber: [n.stringValue]
        default: []
        }
    }

    /// A list of objects, such as log-batch's metrics.
    func objects(_ key: String) -> [MLflowArguments] {
        ((values[key] as? [Any]) ?? []).compactMap { ($0 as? [String: Any]).map(MLflowArguments.init) }
    }

    /// `{key, value}` pairs, such as tags at creation.
    func pairs(_ key: String) throws -> [(key: String, value: String)] {
        try objects(key).map { try ($0.require("key"), $0.string("value") ?? "") }
    }
}
