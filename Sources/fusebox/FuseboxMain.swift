import ArgumentParser
import FuseboxCLI
import Logging

/// The `fusebox` executable: configures logging to standard error, then runs the command.
///
/// An `@main` type with an `async` `main` is required: a top-level `await Fusebox.main()` picks
/// the synchronous entry point and every command fails at run time (see shared/STYLE.md).
@main
enum FuseboxMain {
    static func main() async {
        let verbose = CommandLine.arguments.contains("--verbose") || CommandLine.arguments.contains("-v")
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .notice
            return handler
        }
        await Fusebox.main(nil)
    }
}
