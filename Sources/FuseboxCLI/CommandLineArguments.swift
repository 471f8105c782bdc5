import ArgumentParser
import Foundation

extension Fusebox {
    /// The arguments as users type them, rewritten into the form the parser expects:
    /// - options every command takes (`--db`, `--format`, `--verbose`/`-v`), given before the
    ///   subcommand (`fusebox --db s.sqlite versions m`), move after it;
    /// - a negative number after an option that takes a value (`--lr -1`, `--margin -0.1`) is
    ///   joined to it (`--lr=-1`), so the parser reads it as the value, not as an option.
    public static func normalizedArguments(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first, first.hasPrefix("-") {
            if first == "--db" || first == "--format", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--db=") || first.hasPrefix("--format=") || first == "--verbose" || first == "-v"
            {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        var out: [String] = []
        for argument in Array(rest) + leading {
            if let option = out.last, option.hasPrefix("--"), !option.contains("="), isNegativeNumber(argument) {
                out[out.count - 1] = option + "=" + argument
            } else {
                out.append(argument)
            }
        }
        return out
    }

    static func isNegativeNumber(_ text: String) -> Bool {
        text.count >= 2 && text.hasPrefix("-") && Double(text) != nil
    }

    /// The one line printed for an error that ends a command (`Error: …`), and its exit code: 64
    /// for usage errors (with the argument and the problem, never the usage text), 1 otherwise.
    /// Help and version requests (exit 0) return nil: they print in full.
    public static func oneLineError(for error: any Error) -> (line: String, code: Int32)? {
        let code = exitCode(for: error)
        guard code != .success else { return nil }
        // The parser's message may list choices on further lines; they join into one.
        let lines = message(for: error).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("Usage:") && !$0.hasPrefix("See '") && !$0.hasPrefix("Help:") }
        let message = lines.isEmpty ? "\(error)" : lines.joined(separator: " ")
        let text = message.hasPrefix("Error: ") ? message : "Error: " + message
        return (text, code.rawValue)
    }
}
