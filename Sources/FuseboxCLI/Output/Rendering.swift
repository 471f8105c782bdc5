import ArgumentParser
import Foundation
import RegistryStore

/// How listings and results are printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

/// One cell of a listing: text, or a number that tables round to 4 decimals and CSV keeps in full
/// (the shortest decimal that reads back as the same Double).
struct Cell: ExpressibleByStringLiteral, Equatable {
    let text: String
    let number: Double?

    init(_ text: String) {
        self.text = text
        number = nil
    }

    init(stringLiteral text: String) { self.init(text) }

    /// A number; nil shows as `-` in tables and as an empty CSV field.
    static func number(_ x: Double?, signed: Bool = false) -> Cell {
        Cell(text: x.map { signed ? String(format: "%+.4f", $0) : formatNumber($0) } ?? "-", number: x)
    }

    private init(text: String, number: Double?) {
        self.text = text
        self.number = number
    }

    var csv: String {
        guard text == "-" || number != nil else { return text }
        return number.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : "\($0)" } ?? ""
    }
}

/// A listing: column names and rows of cells, printed as an aligned table, JSON or CSV. Column
/// names are ASCII snake_case so CSV headers can be used as they are.
struct Listing {
    var columns: [String]
    var rows: [[Cell]]

    init(columns: [String], rows: [[Cell]]) {
        self.columns = columns
        self.rows = rows
    }

    init(columns: [String], rows: [[String]]) {
        self.init(columns: columns, rows: rows.map { $0.map { Cell($0) } })
    }

    func render(_ format: OutputFormat, json: @autoclosure () -> Any) throws {
        switch format {
        case .table: Terminal.out(table())
        case .csv: Terminal.out(csv())
        case .json: try printJSON(json())
        }
    }

    /// ``render(_:json:)`` with the JSON shape the API shares (``RegistryJSON``).
    func render(_ format: OutputFormat, encoding json: @autoclosure () -> some Encodable) throws {
        switch format {
        case .table: Terminal.out(table())
        case .csv: Terminal.out(csv())
        case .json: try printJSON(encoding: json())
        }
    }

    func table() -> String {
        guard !rows.isEmpty else { return "(none)" }
        let text = rows.map { $0.map(\.text) }
        let widths = columns.indices.map { c in max(columns[c].count, text.map { $0[c].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return
            ([Terminal.bold(line(columns)), line(widths.map { String(repeating: "-", count: $0) })] + text.map(line))
            .joined(separator: "\n")
    }

    func csv() -> String {
        func escape(_ s: String) -> String {
            s.contains(",") || s.contains("\"") || s.contains("\n")
                ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        return ([columns] + rows.map { $0.map(\.csv) }).map { $0.map(escape).joined(separator: ",") }.joined(
            separator: "\n"
        )
    }
}

/// Prints a JSON value (sorted keys, pretty) on stdout.
/// - Throws: when the value cannot be encoded (a non-finite number, a type JSON lacks): nothing is printed.
func printJSON(_ value: Any) throws {
    guard JSONSerialization.isValidJSONObject(value) else {
        throw RegistryError(
            .invalidInput,
            "The output cannot be written as JSON (it holds a value JSON cannot represent); use --format table."
        )
    }
    let data = try JSONSerialization.data(
        withJSONObject: value,
        options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    )
    Terminal.out(String(decoding: data, as: UTF8.self))
}

/// Prints one of the JSON shapes the API shares (sorted keys, pretty) on stdout.
func printJSON(encoding value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    Terminal.out(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Reports a finished action: the sentence for tables, an object for JSON, a header and a row for CSV.
func printDone(_ sentence: String, _ fields: KeyValuePairs<String, Any>, format: OutputFormat) throws {
    switch format {
    case .table: Terminal.out(sentence)
    case .json: try printJSON(Dictionary(uniqueKeysWithValues: fields.map { ($0.key, $0.value) }))
    case .csv:
        let cells = fields.map { field in
            switch field.value {
            case let list as [Any]: Cell(list.map { "\($0)" }.joined(separator: ";"))
            case let x as Double: Cell.number(x)
            default: Cell("\(field.value)")
            }
        }
        Terminal.out(Listing(columns: fields.map(\.key), rows: [cells]).csv())
    }
}

/// JSON-safe number (NaN and infinities become null).
func jsonNumber(_ x: Double?) -> Any { x.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }
