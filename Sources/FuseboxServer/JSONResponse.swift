import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension Response {
    /// A JSON response of `value`, keys sorted so that answers are stable byte for byte.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value)))
        )
    }
}

extension Request {
    /// A query parameter, if present and not empty, decoded as a form does it (`+` is a space,
    /// `%2B` a plus sign), so the UI's search box and API clients agree.
    func query(_ name: String) -> String? {
        for pair in (uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].removingPercentEncoding == name else { continue }
            let value = parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// A whole-number query parameter within `range`, or `fallback` when absent (400 otherwise).
    func query(_ name: String, in range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        guard let text = query(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError(
                .badRequest,
                "invalid_query",
                "'\(name)' must be a whole number in \(range.lowerBound)...\(range.upperBound), got '\(text)'."
            )
        }
        return value
    }
}
