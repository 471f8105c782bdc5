import ArgumentParser
import RegistryStore
import Testing

@testable import FuseboxCLI

/// The first layer: parse with `Fusebox.parseAsRoot` and check the usage errors' text and exit code.
struct ParsingTests {
    func usageError(_ arguments: [String]) -> (message: String, code: Int32) {
        do {
            _ = try Fusebox.parseAsRoot(arguments)
            return ("", 0)
        } catch {
            return (Fusebox.message(for: error), Fusebox.exitCode(for: error).rawValue)
        }
    }

    @Test func usageErrorsExit64WithAClearMessage() {
        let cases: [([String], String)] = [
            (["train", "m", "--data", "d.safetensors", "--epochs", "0"], "--epochs must be 1 or more, got 0."),
            (["train", "m"], "Give the data either with --data FILE or with --modality NAME=FILE"),
            (["train", "m", "--data", "a.safetensors", "--modality", "x=y.npy"], "not both or neither"),
            (
                ["train", "m", "--data", "a.safetensors", "--val-split", "1.5"],
                "--val-split must be in [0, 1), got 1.5."
            ),
            (["train", "m", "--data", "a.safetensors", "--method", "magic"], "magic"),
            (["alias", "set", "m", "production", "0"], "The version must be 1 or more, got 0."),
            (["compare", "a@1", "b@2", "--data", "d.safetensors", "--alpha", "2"], "--alpha must be in (0, 1)."),
            (["runs", "--limit", "0"], "--limit must be 1 or more."),
            (["train", "m", "--data", "a.safetensors", "--patience", "0"], "--patience must be 1 or more."),
            (["promote", "m@2", "--data", "d.safetensors", "--margin=-0.1"], "--margin must be 0 or more, got -0.1."),
        ]
        for (arguments, fragment) in cases {
            let (message, code) = usageError(arguments)
            #expect(message.contains(fragment), "\(arguments): \(message)")
            #expect(code == 64, "\(arguments): exit \(code)")
        }
    }

    @Test func everyDesignCommandExists() throws {
        for command in [
            "demo", "init", "train", "register", "models", "versions", "show", "predict", "eval", "compare", "promote",
            "runs", "weights",
            "alias", "rollback", "history", "export", "delete", "verify", "backup", "gc",
        ] {
            #expect(Fusebox.configuration.subcommands.contains { $0._commandName == command }, "\(command)")
        }
    }

    @Test func outputThatJSONCannotHoldIsAnErrorNotNull() {
        #expect(throws: RegistryError.self) { try printJSON(["loss": Double.nan]) }
        #expect(throws: Never.self) { try printJSON(["loss": jsonNumber(.nan)]) }
    }
}
