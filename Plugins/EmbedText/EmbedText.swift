import Foundation
import PackagePlugin

/// Embeds the text files of the target it is applied to (`.json`, `.css`, `.js`: the OpenAPI
/// document, the web UI's style and script) into a generated Swift file, so the `fusebox` binary
/// serves them with no resource bundle next to it.
@main
struct EmbedText: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        guard let target = target as? any SourceModuleTarget else { return [] }
        let files = target.sourceFiles
            .map(\.url)
            .filter { ["json", "css", "js"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedText.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) text files",
                executable: try context.tool(named: "embed-text").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]
            )
        ]
    }
}
