import ArgumentParser
import RegistryStore

/// The `fusebox` command: train late-fusion classifiers and keep them in a SQLite model registry.
public struct Fusebox: AsyncParsableCommand {
    /// The release this binary belongs to.
    public static let version = "0.2.0"

    public static let configuration = CommandConfiguration(
        commandName: "fusebox",
        abstract: "Train late-fusion multimodal classifiers and keep them in a SQLite model registry.",
        discussion: """
            The store is one SQLite file: --db PATH, else $FUSEBOX_DB, else ./fusebox.sqlite.
            References: MODEL@3 (version 3), MODEL@production (an alias), MODEL@latest, or MODEL.
            """,
        version: version,
        subcommands: Fusebox.allSubcommands
    )

    public init() {}
}

extension Fusebox {
    /// The error underneath a registry error (a database or file error), shown with `--verbose`.
    public static func underlyingCause(of error: any Error) -> (any Error)? {
        (error as? RegistryError)?.cause
    }
}
