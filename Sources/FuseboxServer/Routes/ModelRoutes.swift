import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RegistryJSON
import RegistryStore
import TensorIO

/// Models and versions: list, show, upload a component's safetensors file, download a version's
/// weights, delete a version (admin).
struct ModelRoutes {
    let registry: Registry
    let limits: FuseboxServer.Limits

    func add(to api: RouterGroup<ServerContext>) {
        api.get("models") { _, _ in try Response.json(try await registry.models().map(ModelJSON.init)) }
        api.get("models/:model") { _, context in
            try Response.json(ModelJSON(try await registry.model(context.parameters.require("model"))))
        }
        api.get("models/:model/versions") { request, context in
            let versions = try await registry.versions(
                of: context.parameters.require("model"),
                includingDeleted: request.query("include_deleted") == "true"
            )
            return try Response.json(versions.map(VersionJSON.init))
        }
        api.post("models/:model/versions", use: upload)
        api.get("models/:model/versions/:ref") { _, context in
            try Response.json(VersionJSON(try await registry.version(context.reference())))
        }
        api.get("models/:model/versions/:ref/weights", use: weights)
        api.delete("models/:model/versions/:ref") { request, context in
            let deletion = try await context.acting(registry).deleteVersion(
                context.reference(),
                force: request.query("force") == "true",
                reason: request.query("reason") ?? ""
            )
            return try Response.json(DeletionJSON(deletion))
        }
    }

    struct RegisteredBody: Encodable {
        let model: String
        let version: Int
        let sha256: String
        let bytes: Int
    }

    /// `POST /models/{model}/versions`: the body is a safetensors file, streamed to a temporary
    /// file (memory stays at one chunk), checked against `?sha256=` when given, then registered
    /// as the next version of a component model (the registry validates and hashes every tensor).
    @Sendable func upload(_ request: Request, context: ServerContext) async throws -> Response {
        let model = try context.parameters.require("model")
        try Names.validate(model, as: "Model name")
        let file = try await BodyFile.receive(request.body, limit: limits.upload, in: limits.temporaryDirectory)
        defer { file.remove() }
        if let expected = request.query("sha256"), expected.lowercased() != file.sha256 {
            throw APIError(
                .unprocessableContent,
                "digest_mismatch",
                "The body's SHA-256 is \(file.sha256), not \(expected) as 'sha256' says; nothing was registered."
            )
        }
        let number: Int
        do {
            number = try await context.acting(registry).registerComponent(model: model, safetensorsPath: file.path)
        } catch let error as TensorIOError {
            // The staging file's name means nothing to the client.
            throw APIError(
                .unprocessableContent,
                "invalid_file",
                error.description.replacingOccurrences(of: "'\(file.path)'", with: "The upload")
            )
        }
        return try Response.json(
            RegisteredBody(model: model, version: number, sha256: file.sha256, bytes: file.byteCount),
            status: .created
        )
    }

    /// `GET …/weights`: the version as a safetensors file (a registered file byte for byte), every
    /// tensor verified as it is read, with `ETag: "SHA256"` of the file; `If-None-Match` → 304.
    @Sendable func weights(_ request: Request, context: ServerContext) async throws -> Response {
        let reference = try context.reference()
        let version = try await registry.version(reference)
        let path = (limits.temporaryDirectory as NSString).appendingPathComponent(
            "fusebox-download-\(UUID().uuidString).safetensors"
        )
        do {
            try await registry.exportSafetensors(
                VersionReference(model: version.model, selector: .number(version.number)),
                toPath: path
            )
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        let digest = try SHA256Hex.ofFile(atPath: path)
        let etag = "\"\(digest)\""
        let name = "\(version.model)-\(version.number).safetensors"
        if request.headers[.ifNoneMatch]?.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces) == etag
        }) == true {
            try? FileManager.default.removeItem(atPath: path)
            return Response(status: .notModified, headers: [.eTag: etag])
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw APIError(.internalServerError, "io", "Cannot read the exported file.")
        }
        // Unlinked now: the open handle keeps the bytes until the body is written.
        try? FileManager.default.removeItem(atPath: path)
        let size = Int(try handle.seekToEnd())
        try handle.seek(toOffset: 0)
        let chunk = 1 << 20
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/octet-stream", .eTag: etag,
                .contentDisposition: "attachment; filename=\"\(name)\"",
            ],
            body: ResponseBody(contentLength: size) { writer in
                defer { try? handle.close() }
                while let data = try handle.read(upToCount: chunk), !data.isEmpty {
                    try await writer.write(ByteBuffer(bytes: data))
                }
                try await writer.finish(nil)
            }
        )
    }
}
