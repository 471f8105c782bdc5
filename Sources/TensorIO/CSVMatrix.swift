import TensorCore

/// A numeric table read from CSV: an optional header row, a Float32 matrix of the feature
/// columns, optionally one column taken out as labels, and the sample ids of an `id` column.
public struct CSVTable: Sendable {
    /// Column names of the matrix (from the header row, or `c0`, `c1`, … without one).
    public let columns: [String]
    /// The feature columns, one row per data row.
    public let matrix: Matrix
    /// The label column's values, when one was asked for.
    public let labels: [Double]?
    /// The sample ids, when the header names an `id` column (read as text: any value, not only numbers).
    public let ids: [String]?

    /// The name of the column that holds sample ids.
    public static let idColumn = "id"

    /// Reads a CSV file.
    /// - Parameters:
    ///   - path: the file to read.
    ///   - labelColumn: the name (with a header row) or zero-based index of a column to take out as labels.
    ///   - hasHeader: `nil` detects a header: the first row is one when any of its cells is not a number.
    public static func read(path: String, labelColumn: String? = nil, hasHeader: Bool? = nil) throws -> CSVTable {
        let file = try PosixFile(readingAtPath: path)
        let bytes = try file.read(count: file.size, at: 0)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TensorIOError(.invalidCSV, path: path, "is not UTF-8 text")
        }
        return try parse(text, path: path, labelColumn: labelColumn, hasHeader: hasHeader)
    }

    /// The non-empty lines of a UTF-8 text file, trimmed of spaces and of one pair of double quotes
    /// (a one-column CSV of names, such as class labels written as text).
    public static func readTextCells(path: String) throws -> [String] {
        let file = try PosixFile(readingAtPath: path)
        guard let text = String(validating: try file.read(count: file.size, at: 0), as: UTF8.self) else {
            throw TensorIOError(.invalidCSV, path: path, "is not UTF-8 text")
        }
        return text.split(whereSeparator: \.isNewline).map { String($0).trimmingQuotes() }.filter { !$0.isEmpty }
    }

    /// Parses CSV text; see ``read(path:labelColumn:hasHeader:)``.
    public static func parse(
        _ text: String,
        path: String,
        labelColumn: String? = nil,
        hasHeader: Bool? = nil
    ) throws -> CSVTable {
        var rows: [(line: Int, cells: [Substring])] = []
        for (n, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .enumerated()
        {
            var line = rawLine
            if line.last == "\r" { line.removeLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            rows.append((n + 1, line.split(separator: ",", omittingEmptySubsequences: false).map { trim($0) }))
        }
        guard let first = rows.first else { throw TensorIOError(.invalidCSV, path: path, "holds no rows") }
        let header = hasHeader ?? first.cells.contains { Double($0) == nil }
        var names = header ? first.cells.map { String($0).trimmingQuotes() } : (0..<first.cells.count).map { "c\($0)" }
        if header { rows.removeFirst() }
        let width = names.count
        var labelIndex: Int?
        if let labelColumn {
            if let i = names.firstIndex(of: labelColumn) {
                labelIndex = i
            } else if let i = Int(labelColumn), (0..<width).contains(i) {
                labelIndex = i
            } else {
                throw TensorIOError(
                    .invalidCSV,
                    path: path,
                    "has no column '\(labelColumn)' (columns: \(names.joined(separator: ", ")))"
                )
            }
        }
        let idIndex = header ? names.firstIndex(of: idColumn) : nil
        if let idIndex, idIndex == labelIndex {
            throw TensorIOError(.invalidCSV, path: path, "uses the column '\(idColumn)' both for ids and for labels")
        }
        var values: [Float] = []
        values.reserveCapacity(rows.count * width)
        var labels: [Double] = []
        var ids: [String] = []
        for (line, cells) in rows {
            guard cells.count == width else {
                throw TensorIOError(
                    .invalidCSV,
                    path: path,
                    "line \(line) has \(cells.count) cells, expected \(width) (ragged rows)"
                )
            }
            for (j, cell) in cells.enumerated() {
                if j == idIndex {
                    ids.append(String(cell).trimmingQuotes())
                    continue
                }
                guard let v = Double(cell) else {
                    throw TensorIOError(
                        .invalidCSV,
                        path: path,
                        "line \(line), column \(j + 1): '\(cell)' is not a number"
                    )
                }
                if j == labelIndex { labels.append(v) } else { values.append(Float(v)) }
            }
        }
        if let labelIndex { names.remove(at: labelIndex) }
        if let idIndex { names.remove(at: idIndex - (labelIndex.map { $0 < idIndex ? 1 : 0 } ?? 0)) }
        let matrix = Matrix(rows: rows.count, columns: names.count, values: values)
        return CSVTable(
            columns: names,
            matrix: matrix,
            labels: labelIndex == nil ? nil : labels,
            ids: idIndex.map { _ in ids }
        )
    }

    private static func trim(_ s: Substring) -> Substring {
        var s = s
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}

extension String {
    func trimmingQuotes() -> String {
        if count >= 2, first == "\"", last == "\"" { return String(dropFirst().dropLast()) }
        return self
    }
}
