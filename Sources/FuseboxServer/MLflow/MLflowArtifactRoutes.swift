import Foundation
import Hummingbird
import RegistryStore

/// MLflow's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts`): upload (PUT), download (GET),
/// list (GET with `?path=`) and delete, over the registry's content-addressed artifacts, plus the
/// tracking API's `artifacts/list` by run. Uploads are streamed to a staging file; downloads are
/// verified against their SHA-256 before the first byte is sent.
struct MLflowArtifactRoutes {
    let registry: Registry
    let limits: FuseboxServer.Limits

    func add(artifacts group: RouterGroup<ServerContext>) {
        group.get("artifacts") { request, _ in
            let path = request.query("path") ?? ""
            let files = try await registry.listArtifacts(in: path).map {
                MLflowJSON.FileInfo(path: $0.path, is_dir: $0.isDirectory, file_size: $0.byteCount)
            }
            return try Response.json(["files": files])
        }
        group.get("artifacts/**", use: download)
        group.put("artifacts/**") { request, context in
            let path = try Self.path(context)
            let file = try await BodyFile.receive(request.body, limit: limits.upload, in: limits.temporaryDirectory)
            defer { file.remove() }
            try await context.acting(registry).putArtifact(path, fromFile: file.path)
            return try Response.json([String: String]())
        }
        group.delete("artifacts/**") { _, context in
            try await context.acting(registry).deleteArtifacts(try Self.path(context))
            return try Response.json([String: String]())
        }
    }

    struct RunListing: Encodable {
        let root_uri: String
        let files: [MLflowJSON.FileInfo]
    }

    /// The tracking API's `GET artifacts/list?run_id=&path=`.
    func add(tracking group: RouterGroup<ServerContext>) {
        group.get("artifacts/list") { request, _ in
            let args = try await MLflowArguments.of(request)
            let text = args.string("run_id") ?? args.string("run_uuid") ?? ""
            let id = try await MLflowRunIds.resolve(text, in: registry)
            let run = try await registry.run(id)
            let root = MLflowJSON.artifactRoot(experiment: run.experimentId, run: id)
            let relative = args.string("path") ?? ""
            let entries = try await registry.listArtifacts(in: relative.isEmpty ? root : "\(root)/\(relative)")
            return try Response.json(
                RunListing(
                    root_uri: MLflowJSON.artifactURI(run),
                    files: entries.map {
                        .init(
                            path: relative.isEmpty ? $0.path : "\(relative)/\($0.path)",
                            is_dir: $0.isDirectory,
                            file_size: $0.byteCount
                        )
                    }
                )
            )
        }
    }

    @Sendable func download(_ request: Request, context: ServerContext) async throws -> Response {
        let path = try Self.path(context)
        let staging = (limits.temporaryDirectory as NSString).appendingPathComponent(
            "fusebox-artifact-\(UUID().uuidString)"
        )
        let digest: String
        do { digest = try await registry.exportArtifact(path, toPath: staging) } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
        guard let handle = FileHandle(forReadingAtPath: staging) else {
            throw MLflowError(
                code: "INTERNAL_ERROR",
                message: "Cannot read the exported artifact.",
                status: .internalServerError
            )
        }
        // Unlinked now: the open handle keeps the bytes until the body is written.
        try? FileManager.default.removeItem(atPath: staging)
        let size = Int(try handle.seekToEnd())
        try handle.seek(toOffset: 0)
        return Response(
            status: .ok,
            headers: [.contentType: "application/octet-stream", .eTag: "\"\(digest)\""],
            body: ResponseBody(contentLength: size) { writer in
                defer { try? handle.close() }
                while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                    try await writer.write(ByteBuffer(bytes: data))
                }
                try await writer.finish(nil)
            }
        )
    }

    /// The artifact path after `artifacts/`, each segment percent-decoded.
    static func path(_ context: ServerContext) throws -> String {
        let segments = context.parameters.getCatchAll().map { $0.removingPercentEncoding ?? String($0) }
        guard !segments.isEmpty else { throw MLflowError.invalid("No artifact path.") }
        return segments.joined(separator: "/")
    }
}
