import ArgumentParser

extension Fusebox {
    /// Every subcommand, in the order `--help` lists them.
    static let allSubcommands: [any ParsableCommand.Type] = [
        Demo.self, Init.self, Train.self, Register.self, Models.self, Versions.self, Show.self, Predict.self, Eval.self,
        Compare.self,
        Promote.self, Runs.self, Weights.self, Alias.self, Rollback.self, History.self, Export.self, Delete.self,
        Verify.self, Backup.self, Copy.self, GC.self, Serve.self, Token.self, Import.self,
    ]
}
