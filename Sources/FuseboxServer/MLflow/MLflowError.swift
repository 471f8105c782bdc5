import HTTPTypes
import Hummingbird
import RegistryStore
import TensorIO

/// An error as MLflow's server answers it: `{"error_code": "…", "message": "…"}` with MLflow's
/// HTTP status for the code. (`INVALID_STATE` is answered 400, not MLflow's 500: the client
/// retries a 500 several times with back-off, and a conflict never heals by waiting.)
struct MLflowError: Error {
    let code: String
    let message: String
    let status: HTTPResponse.Status

    static func invalid(_ message: String) -> MLflowError {
        MLflowError(code: "INVALID_PARAMETER_VALUE", message: message, status: .badRequest)
    }

    static func notFound(_ message: String) -> MLflowError {
        MLflowError(code: "RESOURCE_DOES_NOT_EXIST", message: message, status: .notFound)
    }

    static func endpointNotFound(_ method: HTTPRequest.Method, _ path: String) -> MLflowError {
        MLflowError(
            code: "ENDPOINT_NOT_FOUND",
            message:
                "Fusebox does not implement \(method) \(path) of the MLflow API; the README's MLflow table lists what it does.",
            status: .notFound
        )
    }

    /// The MLflow code and status for an error from the registry, the server or a file.
    static func from(_ error: any Error) -> MLflowError {
        switch error {
        case let e as MLflowError: return e
        case let e as RegistryError:
            switch e.code {
            case .notFound: return .notFound(e.message)
            case .alreadyExists:
                return MLflowError(code: "RESOURCE_ALREADY_EXISTS", message: e.message, status: .badRequest)
            case .invalidInput: return .invalid(e.message)
            case .conflict: return MLflowError(code: "INVALID_STATE", message: e.message, status: .badRequest)
            case .corruptData: return MLflowError(code: "DATA_LOSS", message: e.message, status: .internalServerError)
            default: return MLflowError(code: "INTERNAL_ERROR", message: e.message, status: .internalServerError)
            }
        case let e as TensorIOError: return .invalid(e.description)
        default:
            let api = APIError.from(error)
            // No route matched (outside the prefixes the catch-alls cover).
            if api.code == "http_404" {
                return MLflowError(code: "ENDPOINT_NOT_FOUND", message: "No such endpoint.", status: .notFound)
            }
            let code =
                switch api.status.code {
                case 401: "UNAUTHENTICATED"
                case 403: "PERMISSION_DENIED"
                case 404: "RESOURCE_DOES_NOT_EXIST"
                case 400, 413, 422: "INVALID_PARAMETER_VALUE"
                default: "INTERNAL_ERROR"
                }
            return MLflowError(code: code, message: api.message, status: api.status)
        }
    }

    func response() throws -> Response {
        try .json(["error_code": code, "message": message], status: status)
    }

    /// True for the paths MLflow's client calls, whose errors must take MLflow's shape.
    static func isMLflowPath(_ path: String) -> Bool {
        path.hasPrefix("/api/2.0/") || path.hasPrefix("/ajax-api/2.0/")
    }
}
