import ArgumentParser
import RegistryStore

extension Fusebox {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the store: SQLite integrity and every tensor's SHA-256. Exits 1 if anything is wrong.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let report = try await global.openRegistry().verify()
            if global.format == .json {
                printJSON(["integrity": report.integrity, "blobs": report.blobsChecked, "bytes": report.bytesChecked, "corrupt": report.corruptTensors, "ok": report.isHealthy] as [String: Any])
            } else {
                Terminal.out("integrity_check: \(report.integrity.joined(separator: "; "))")
                Terminal.out("tensors: \(report.blobsChecked) blobs, \(report.bytesChecked) bytes re-hashed")
                for bad in report.corruptTensors { Terminal.out(Terminal.red("corrupt: \(bad)")) }
            }
            if !report.isHealthy {
                throw RegistryError(.corruptData, "The store '\(global.storePath)' failed verification (\(report.corruptTensors.count) corrupt tensors).")
            }
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Copy the store to a file, consistently, even while others write (SQLite online backup).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Destination file.") var file: String
        @Flag(help: "Overwrite an existing file.") var force = false

        func run() async throws {
            try await global.openRegistry().backup(toPath: file, overwrite: force)
            Terminal.out("Backed up '\(global.storePath)' to '\(file)'.")
        }
    }

    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gc", abstract: "Remove tensor bytes no version uses any more.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only report what would be removed.") var dryRun = false

        func run() async throws {
            let report = try await global.openRegistry().collectGarbage(dryRun: dryRun)
            if global.format == .json { return printJSON(["blobs": report.blobs, "bytes": report.bytes, "dry_run": report.dryRun] as [String: Any]) }
            Terminal.out("\(dryRun ? "Would remove" : "Removed") \(report.blobs) unreferenced tensor blobs (\(report.bytes) bytes).")
        }
    }
}
