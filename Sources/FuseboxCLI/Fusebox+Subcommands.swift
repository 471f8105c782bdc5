import ArgumentParser

extension Fusebox {
    /// Every subcommand, in the order `--help` lists them.
    static let allSubcommands: [any ParsableCommand.Type] = []
}
