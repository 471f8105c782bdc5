import ArgumentParser
import FuseboxServer
import Logging
import RegistryStore

extension Fusebox {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Serve the registry over HTTP: the JSON API under /api/v1 with bearer tokens, live prediction by alias, and the web UI.",
            discussion: """
                Every request but GET /healthz carries 'Authorization: Bearer TOKEN' (fusebox token create NAME --scope read).
                One log line per request on stderr; SIGTERM or SIGINT lets requests in flight finish, then closes the store.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The address to bind (loopback unless you choose otherwise).") var host = "127.0.0.1"
        @Option(help: "The port (0 picks a free one, printed on stderr).") var port = 8080
        @Flag(help: "Serve without tokens: allowed only on a loopback host.") var noAuth = false
        @Option(help: "The largest safetensors upload, in MiB (413 above it).") var maxUploadMib = 16 << 10

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port).") }
            guard (1...(1 << 30)).contains(maxUploadMib) else {
                throw ValidationError("--max-upload-mib must be 1 or more, got \(maxUploadMib).")
            }
            if noAuth && !["127.0.0.1", "::1", "localhost"].contains(host) {
                throw ValidationError(
                    "--no-auth is allowed only on a loopback host (127.0.0.1, ::1, localhost), not '\(host)'."
                )
            }
        }

        func run() async throws {
            let registry = try global.openRegistry(.create)
            var logger = Logger(label: "fusebox.serve")
            logger.logLevel = global.verbose ? .debug : .info
            if noAuth {
                Terminal.err(
                    "WARNING: --no-auth: every request on \(host) is served without a token, with full rights."
                )
            }
            let host = host
            try await FuseboxServer.run(
                registry: registry,
                host: host,
                port: port,
                authenticate: !noAuth,
                limits: FuseboxServer.Limits(upload: maxUploadMib << 20),
                logger: logger
            ) { bound in
                Terminal.err("Serving '\(registry.path)' on http://\(host):\(bound) (Ctrl-C to stop)")
            }
            Terminal.err("Stopped; the store is closed.")
        }
    }
}
