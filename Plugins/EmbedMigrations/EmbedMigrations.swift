import Foundation
import PackagePlugin

/// Embeds every `NNNN_name.sql` file of the target it is applied to (the top-level `migrations/`
/// folder) into a generated Swift file, so the `fusebox` binary carries its schema and needs no
/// resource bundle.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        guard let target = target as? any SourceModuleTarget else { return [] }
        let sqlFiles = target.sourceFiles
            .map(\.url)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "SchemaMigrations+Embedded.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(sqlFiles.count) schema migrations",
                executable: try context.tool(named: "embed-migrations").url,
                arguments: [output.path] + sqlFiles.map(\.path),
                inputFiles: sqlFiles,
                outputFiles: [output]
            )
        ]
    }
}
