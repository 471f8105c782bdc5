import ArgumentParser
import RegistryJSON
import RegistryStore

extension Fusebox {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check the store: SQLite integrity, every tensor's SHA-256 and every record's digest. Exits 1 if anything is wrong."
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let report = try await global.openRegistry(.read).verify()
            if global.format == .json {
                try printJSON(
                    [
                        "integrity": report.integrity, "blobs": report.blobsChecked, "bytes": report.bytesChecked,
                        "records": report.recordsChecked, "unreferenced_objects": report.unreferencedObjects,
                        "damaged": report.damaged, "ok": report.isHealthy,
                    ] as [String: Any]
                )
            } else if global.format == .csv {
                let rows: [[Cell]] =
                    [
                        ["integrity_check", Cell(report.integrity.joined(separator: "; "))],
                        ["blobs", .number(Double(report.blobsChecked))],
                        ["bytes", .number(Double(report.bytesChecked))],
                        ["records", .number(Double(report.recordsChecked))],
                        ["unreferenced_objects", .number(Double(report.unreferencedObjects))],
                    ] + report.damaged.map { ["damaged", Cell($0)] }
                try Listing(columns: ["check", "value"], rows: rows).render(.csv, json: [])
            } else {
                Terminal.out("integrity_check: \(report.integrity.joined(separator: "; "))")
                Terminal.out("tensors: \(report.blobsChecked) blobs, \(report.bytesChecked) bytes re-hashed")
                Terminal.out(
                    "records: \(report.recordsChecked) (versions, evaluations, comparisons, ended runs, aliases) checked against their digests"
                )
                if report.unreferencedObjects > 0 {
                    Terminal.out(
                        "objects: \(report.unreferencedObjects) files in the object folder no blob names (not damage; 'fusebox gc' removes them)"
                    )
                }
                for bad in report.damaged { Terminal.out(Terminal.red("damaged: \(bad)")) }
            }
            if !report.isHealthy {
                throw RegistryError(
                    .corruptData,
                    "The store '\(global.storePath)' failed verification (\(report.damaged.count) damaged items)."
                )
            }
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Copy the store to a file (and its object folder to FILE-objects), consistently, even while others write."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Destination file.") var file: String
        @Flag(help: "Overwrite an existing file.") var force = false

        func run() async throws {
            try await global.openRegistry(.read).backup(toPath: file, overwrite: force)
            try printDone(
                "Backed up '\(global.storePath)' to '\(file)'.",
                ["store": global.storePath, "backup": file],
                format: global.format
            )
        }
    }

    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Purge deleted runs and remove tensor bytes no version uses any more."
        )
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only report what would be removed.") var dryRun = false

        func run() async throws {
            let report = try await global.openRegistry(.write).collectGarbage(dryRun: dryRun)
            if global.format == .json { return try printJSON(encoding: GarbageJSON(report)) }
            try printDone(
                "\(dryRun ? "Would purge" : "Purged") \(report.runs) deleted runs and \(dryRun ? "remove" : "removed") \(report.blobs) unreferenced tensor blobs (\(report.bytes) bytes) and \(report.files) unreferenced files of the object folder.",
                [
                    "runs": report.runs, "blobs": report.blobs, "bytes": report.bytes, "files": report.files,
                    "dry_run": report.dryRun,
                ],
                format: global.format
            )
        }
    }
}
