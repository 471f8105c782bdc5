import ArgumentParser
import Foundation

/// How listings and results are printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

/// A listing: column names and rows of cells, printed as an aligned table, JSON or CSV.
struct Listing {
    var columns: [String]
    var rows: [[String]]

    func render(_ format: OutputFormat, json: @autoclosure () -> Any) {
        switch format {
        case .table: Terminal.out(table())
        case .csv: Terminal.out(csv())
        case .json: printJSON(json())
        }
    }

    func table() -> String {
        guard !rows.isEmpty else { return "(none)" }
        let widths = columns.indices.map { c in max(columns[c].count, rows.map { $0[c].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([Terminal.bold(line(columns)), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)).joined(separator: "\n")
    }

    func csv() -> String {
        func escape(_ s: String) -> String {
            s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        return ([columns] + rows).map { $0.map(escape).joined(separator: ",") }.joined(separator: "\n")
    }
}

/// Prints a JSON value (sorted keys, pretty) on stdout.
func printJSON(_ value: Any) {
    let data = (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("null".utf8)
    Terminal.out(String(decoding: data, as: UTF8.self))
}

/// ISO 8601 UTC for a Unix time.
func isoDate(_ seconds: Double) -> String {
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: Date(timeIntervalSince1970: seconds))
}

/// A number for tables: 4 decimals, or an integer when whole.
func formatNumber(_ x: Double) -> String {
    if x == x.rounded() && abs(x) < 1e12 { return String(Int64(x)) }
    return String(format: "%.4f", x)
}

/// JSON-safe number (NaN and infinities become null).
func jsonNumber(_ x: Double?) -> Any { x.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }
