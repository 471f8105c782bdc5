import ArgumentParser
import Foundation
import FuseboxCLI
import Logging

/// The `fusebox` executable: configures logging to standard error, then runs the command.
///
/// An `@main` type with an `async` `main` is required: a top-level `await Fusebox.main()` picks
/// the synchronous entry point and every command fails at run time (see shared/STYLE.md).
@main
enum FuseboxMain {
    static func main() async {
        let arguments = Fusebox.normalizedArguments(Array(CommandLine.arguments.dropFirst()))
        let verbose = arguments.contains("--verbose") || arguments.contains("-v")
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .notice
            return handler
        }
        do {
            var command = try Fusebox.parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if verbose, let cause = Fusebox.underlyingCause(of: error) {
                FileHandle.standardError.write(Data("cause: \(cause)\n".utf8))
            }
            guard let (line, code) = Fusebox.oneLineError(for: error) else { Fusebox.exit(withError: error) }
            FileHandle.standardError.write(Data((line + "\n").utf8))
            exit(code)
        }
    }
}
