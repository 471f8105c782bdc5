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

    /// Writes a result line. When the reader has gone (`fusebox runs | head`), the process ends
    /// as SIGPIPE ends any Unix tool there — silently, the shell seeing status 141 — rather than
    /// crash; any other failure (a full disk) is one line on stderr and exit status 74 (EX_IOERR).
    static func out(_ text: String) {
        do { try FileHandle.standardOutput.write(contentsOf: Data((text + "\n").utf8)) } catch {
            let cause = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
            if cause?.domain == NSPOSIXErrorDomain && cause?.code == Int(EPIPE) {
                signal(SIGPIPE, SIG_DFL)
                raise(SIGPIPE)
            }
            err("Error: the output could not be written: \(cause?.localizedDescription ?? "\(error)").")
            exit(74)
        }
    }

    static func err(_ text: String, newline: Bool = true) {
        try? FileHandle.standardError.write(contentsOf: Data((text + (newline ? "\n" : "")).utf8))
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
