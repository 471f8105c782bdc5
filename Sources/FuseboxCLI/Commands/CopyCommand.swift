import ArgumentParser
import RegistryPostgres
import RegistryStore

extension Fusebox {
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every row and blob of a store into another (SQLite file ⇄ PostgreSQL), verified.",
            discussion: """
                SRC and DST are each a file path or a postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL. \
                The source is read in one snapshot (others may keep writing); the destination is written \
                in one transaction and compared with the source, row by row and blob by blob, before it \
                commits, so a failed or interrupted copy leaves it unchanged. Copying again adds only what \
                is new; a destination holding other data is refused.
                """
        )
        @Option(help: "The store to copy (a file path or a postgres:// URL).") var from: String
        @Option(help: "The store to copy into (created if it is a file that does not exist).") var to: String
        @Option(help: "Output format: table, json or csv.") var format: OutputFormat = .table
        @Flag(name: .shortAndLong, help: "Log debug details, and the underlying cause of errors, to stderr.")
        var verbose = false

        func run() async throws {
            let logger = GlobalOptions.logger(verbose: verbose)
            let source = try StoreAddress(parsing: from)
            let destination = try StoreAddress(parsing: to)
            let report = try StoreCopy.copy(
                from: try source.openBackend(access: .readOnly, createIfMissing: false, logger: logger),
                to: try destination.openBackend(access: .readWrite, logger: logger)
            )
            try printDone(
                "Copied \(source) to \(destination): \(report.rowsInserted) rows added and \(report.rowsUpdated) updated of \(report.rows), \(report.blobsWritten) of \(report.blobs) blobs written (\(report.bytesWritten) bytes); verified.",
                [
                    "from": source.description, "to": destination.description, "rows": report.rows,
                    "rows_inserted": report.rowsInserted, "rows_updated": report.rowsUpdated, "blobs": report.blobs,
                    "blobs_written": report.blobsWritten, "bytes_written": report.bytesWritten,
                    "bytes_verified": report.bytesVerified,
                ],
                format: format
            )
        }
    }
}
