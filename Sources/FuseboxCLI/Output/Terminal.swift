import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where output goes: results to stdout, everything else (progress, notices, errors) to stderr.
enum Terminal {
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    /// Colour only on a terminal and never with `NO_COLOR` set (no-color.org).
    static var useColor: Bool {
        stdoutIsTerminal && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
    }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func err(_ text: String, newline: Bool = true) {
        FileHandle.standardError.write(Data((text + (newline ? "\n" : "")).utf8))
    }

    static func bold(_ text: String) -> String { useColor ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    static func green(_ text: String) -> String { useColor ? "\u{1B}[32m\(text)\u{1B}[0m" : text }
    static func red(_ text: String) -> String { useColor ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
}

/// A progress line on stderr, redrawn in place; silent when stderr is not a terminal.
struct ProgressLine {
    let total: Int
    let start = Date()
    let enabled = Terminal.stderrIsTerminal

    func update(step: Int, _ detail: String) {
        guard enabled else { return }
        let elapsed = Date().timeIntervalSince(start)
        let eta = step > 0 ? elapsed / Double(step) * Double(total - step) : 0
        Terminal.err(
            "\r\u{1B}[2Kepoch \(step)/\(total)  \(detail)  ETA \(String(format: "%.1f", eta))s",
            newline: false
        )
    }

    func finish() {
        if enabled { Terminal.err("\r\u{1B}[2K", newline: false) }
    }
}

/// A horizontal bar for a value in [0, 1], e.g. a fusion weight.
func bar(_ value: Double, width: Int = 24) -> String {
    let filled = max(0, min(width, Int((value * Double(width)).rounded())))
    return String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
}
