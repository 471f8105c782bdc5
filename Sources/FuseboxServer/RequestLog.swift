import Foundation
import Hummingbird
import Logging
import RegistryStore

/// One log line per request, after it is answered: method, path, status, milliseconds and the
/// token's name (`-` without one), e.g. `GET /api/v1/models 200 0.8 ms token=ci`.
struct RequestLog: RouterMiddleware {
    let logger: Logger

    func handle(
        _ request: Request,
        context: ServerContext,
        next: (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15
        logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code) \(String(format: "%.1f", ms)) ms token=\(context.token?.name ?? "-")"
        )
        return response
    }
}
