import Foundation
import FusionCore
import HTTPTypes
import Hummingbird
import NIOCore
import RegistryStore
import TensorIO

/// An error answered as `{"error": {"code", "message"}}` with its HTTP status.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try .json(ErrorBody(error: .init(code: code, message: message)), status: status)
    }

    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
        }
        let error: Detail
    }

    /// The status and code for an error from the registry or the fusion engine.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as RegistryError:
            let status: HTTPResponse.Status =
                switch e.code {
                case .notFound: .notFound
                case .alreadyExists, .conflict: .conflict
                case .invalidInput: .badRequest
                case .schemaTooNew, .schemaTooOld: .serviceUnavailable
                default: .internalServerError
                }
            return APIError(status, "\(e.code)", e.message)
        case let e as FusionError: return APIError(.unprocessableContent, "invalid_data", e.message)
        case let e as TensorIOError: return APIError(.unprocessableContent, "invalid_file", e.description)
        case let e as any HTTPResponseError where e.status == .contentTooLarge:
            return APIError(
                .contentTooLarge,
                "too_large",
                "The request body is larger than \(FuseboxServer.maxJSONBody) bytes."
            )
        case let e as HTTPError where e.status == .badRequest:
            // What Hummingbird says when a body does not decode.
            return APIError(.badRequest, "malformed_json", e.body ?? "The body is not valid JSON for this request.")
        case let e as any HTTPResponseError: return APIError(e.status, "http_\(e.status.code)", "\(e)")
        case let e as DecodingError: return APIError(.badRequest, "malformed_json", Self.describe(e))
        default: return APIError(.internalServerError, "internal", "\(error)")
        }
    }

    static func describe(_ e: DecodingError) -> String {
        switch e {
        case .dataCorrupted(let c): "The body is not valid JSON: \(c.debugDescription)"
        case .keyNotFound(let key, _): "The body lacks the field '\(key.stringValue)'."
        case .typeMismatch(_, let c), .valueNotFound(_, let c):
            "Field '\(c.codingPath.map(\.stringValue).joined(separator: "."))': \(c.debugDescription)"
        @unknown default: "The body cannot be read: \(e)"
        }
    }
}

/// Turns every error a route throws into an ``APIError`` JSON response.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do { return try await next(request, context) } catch {
            let path = request.uri.path
            if MLflowError.isMLflowPath(path) { return try MLflowError.from(error).response() }
            let problem = APIError.from(error)
            guard path.hasPrefix("/api/") || path == "/healthz" else {
                // A web page: the same status and message, as a page.
                return HTML.page(
                    "Error \(problem.status.code)",
                    "<h1>\(problem.status.code) \(HTML.escape(problem.status.reasonPhrase))</h1><p class=\"error\">\(HTML.escape(problem.message))</p>",
                    token: (context as? ServerContext)?.token,
                    status: problem.status
                )
            }
            return try problem.response(from: request, context: context)
        }
    }
}
