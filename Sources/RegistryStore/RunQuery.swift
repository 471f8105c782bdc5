import Foundation
import GRDB

/// The run filter language of `fusebox runs --where`:
///
/// ```text
/// expr       := or
/// or         := and ('or' and)*
/// and        := unary ('and' unary)*
/// unary      := 'not' unary | '(' expr ')' | comparison
/// comparison := field op value
/// field      := metrics.KEY | params.KEY | tags.KEY | max(metrics.KEY) | min(metrics.KEY)
///             | model | version | kind | status | created | id | experiment | name
/// op         := = | != | <> | < | <= | > | >= | like
/// value      := number | 'text' | "text"          ('' inside quotes is a quote)
/// ```
///
/// `metrics.x` is the value at the highest step; `max(metrics.x)` and `min(metrics.x)` reach every
/// step. Params compare as numbers when the value is a number, as text otherwise. `created` takes
/// Unix seconds or an ISO 8601 date. `like` uses SQL patterns (`%`, `_`), case-insensitive for
/// ASCII letters on both backends (PostgreSQL folds the case of other letters too).
/// Keywords are case-insensitive; a key with unusual characters can be quoted in backticks.
/// The query compiles to SQL whose every value and key is a bound argument, never spliced text.
struct RunQuery {
    indirect enum Filter: Sendable {
        case and(Filter, Filter)
        case or(Filter, Filter)
        case not(Filter)
        case comparison(Field, String, Value, column: Int)
    }

    enum Field: Equatable, Sendable {
        case metric(String)
        case metricMax(String)
        case metricMin(String)
        case param(String)
        case tag(String)
        case attribute(String)
    }

    enum Value: Sendable {
        case number(Double)
        case text(String)
    }

    static let attributes = ["model", "version", "kind", "status", "created", "id", "experiment", "name"]

    struct Token {
        enum Kind: Equatable { case word, string, number, op, open, close }
        let kind: Kind
        let text: String
        let column: Int
    }

    /// A query error naming the 1-based column where it breaks.
    static func error(_ column: Int, _ message: String) -> RegistryError {
        RegistryError(.invalidInput, "Invalid --where at column \(column): \(message)")
    }

    static func tokenize(_ text: String) throws -> [Token] {
        let chars = Array(text)
        var tokens: [Token] = []
        var i = 0
        func isWordChar(_ c: Character) -> Bool {
            c.isLetter || c.isNumber || c == "_" || c == "." || c == "-" || c == "/" || c == ":"
        }
        while i < chars.count {
            let c = chars[i]
            let column = i + 1
            if c.isWhitespace {
                i += 1
            } else if c == "(" || c == ")" {
                tokens.append(Token(kind: c == "(" ? .open : .close, text: String(c), column: column))
                i += 1
            } else if c == "'" || c == "\"" || c == "`" {
                var value = ""
                i += 1
                while true {
                    guard i < chars.count else {
                        throw error(column, "unterminated \(c == "`" ? "backquoted key" : "string")")
                    }
                    if chars[i] == c {
                        if i + 1 < chars.count, chars[i + 1] == c {
                            value.append(c)
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    value.append(chars[i])
                    i += 1
                }
                tokens.append(Token(kind: c == "`" ? .word : .string, text: value, column: column))
            } else if "=!<>".contains(c) {
                var op = String(c)
                if i + 1 < chars.count, "=>".contains(chars[i + 1]), c != "=" || chars[i + 1] != ">" {
                    op.append(chars[i + 1])
                }
                guard ["=", "!=", "<>", "<", "<=", ">", ">="].contains(op) else {
                    throw error(column, "unknown operator '\(op)'")
                }
                tokens.append(Token(kind: .op, text: op, column: column))
                i += op.count
            } else if c.isNumber || (c == "-" && i + 1 < chars.count && (chars[i + 1].isNumber || chars[i + 1] == "."))
                || (c == "." && i + 1 < chars.count && chars[i + 1].isNumber)
            {
                var j = i + 1
                while j < chars.count,
                    chars[j].isNumber || chars[j] == "." || chars[j] == "e" || chars[j] == "E"
                        || ((chars[j] == "-" || chars[j] == "+") && (chars[j - 1] == "e" || chars[j - 1] == "E"))
                {
                    j += 1
                }
                let text = String(chars[i..<j])
                guard Double(text) != nil else { throw error(column, "'\(text)' is not a number") }
                tokens.append(Token(kind: .number, text: text, column: column))
                i = j
            } else if isWordChar(c) {
                var j = i
                while j < chars.count, isWordChar(chars[j]) || (chars[j] == "`") {
                    if chars[j] == "`" {
                        // metrics.`key with spaces`
                        guard let close = chars[(j + 1)...].firstIndex(of: "`") else {
                            throw error(j + 1, "unterminated backquoted key")
                        }
                        j = close + 1
                    } else {
                        j += 1
                    }
                }
                tokens.append(
                    Token(
                        kind: .word,
                        text: String(chars[i..<j]).replacingOccurrences(of: "`", with: ""),
                        column: column
                    )
                )
                i = j
            } else {
                throw error(column, "unexpected character '\(c)'")
            }
        }
        return tokens
    }

    // MARK: - Parser

    private var tokens: [Token]
    private var index = 0
    private let length: Int

    private init(tokens: [Token], length: Int) {
        self.tokens = tokens
        self.length = length
    }

    static func parse(_ text: String) throws -> Filter {
        var parser = RunQuery(tokens: try tokenize(text), length: text.count)
        guard !parser.tokens.isEmpty else { throw error(1, "the query is empty") }
        let filter = try parser.parseOr()
        if let extra = parser.peek {
            throw error(extra.column, "unexpected '\(extra.text)'; expected 'and', 'or' or the end")
        }
        return filter
    }

    private var peek: Token? { index < tokens.count ? tokens[index] : nil }
    private var endColumn: Int { length + 1 }

    private mutating func keyword(_ word: String) -> Bool {
        if let t = peek, t.kind == .word, t.text.lowercased() == word {
            index += 1
            return true
        }
        return false
    }

    private mutating func parseOr() throws -> Filter {
        var left = try parseAnd()
        while keyword("or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> Filter {
        var left = try parseUnary()
        while keyword("and") { left = .and(left, try parseUnary()) }
        return left
    }

    private mutating func parseUnary() throws -> Filter {
        if keyword("not") { return .not(try parseUnary()) }
        if let t = peek, t.kind == .open {
            index += 1
            let inner = try parseOr()
            guard let close = peek, close.kind == .close else {
                throw Self.error(peek?.column ?? endColumn, "expected ')' to close the '(' at column \(t.column)")
            }
            _ = close
            index += 1
            return inner
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws -> Filter {
        guard let t = peek else { throw Self.error(endColumn, "expected a field such as metrics.accuracy") }
        guard t.kind == .word else {
            throw Self.error(t.column, "expected a field such as metrics.accuracy, found '\(t.text)'")
        }
        index += 1
        let field: Field
        let lower = t.text.lowercased()
        if lower == "max" || lower == "min", let open = peek, open.kind == .open {
            index += 1
            guard let inner = peek, inner.kind == .word, inner.text.hasPrefix("metrics."), inner.text.count > 8 else {
                throw Self.error(
                    peek?.column ?? endColumn,
                    "\(lower)(…) takes a metric, e.g. \(lower)(metrics.val_accuracy)"
                )
            }
            index += 1
            guard let close = peek, close.kind == .close else {
                throw Self.error(peek?.column ?? endColumn, "expected ')'")
            }
            index += 1
            let key = String(inner.text.dropFirst(8))
            field = lower == "max" ? .metricMax(key) : .metricMin(key)
        } else if let dot = t.text.firstIndex(of: "."),
            ["metrics", "params", "tags"].contains(t.text[..<dot].lowercased())
        {
            let key = String(t.text[t.text.index(after: dot)...])
            guard !key.isEmpty else { throw Self.error(t.column, "'\(t.text)' names no key") }
            switch t.text[..<dot].lowercased() {
            case "metrics": field = .metric(key)
            case "params": field = .param(key)
            default: field = .tag(key)
            }
        } else if Self.attributes.contains(lower) {
            field = .attribute(lower)
        } else {
            throw Self.error(
                t.column,
                "unknown field '\(t.text)'; use metrics.*, params.*, tags.*, max(metrics.*), min(metrics.*) or \(Self.attributes.joined(separator: ", "))"
            )
        }
        guard let opToken = peek else { throw Self.error(endColumn, "expected an operator after '\(t.text)'") }
        let op: String
        if opToken.kind == .op {
            op = opToken.text == "<>" ? "!=" : opToken.text
        } else if opToken.kind == .word, opToken.text.lowercased() == "like" {
            op = "like"
        } else {
            throw Self.error(opToken.column, "expected an operator (= != < <= > >= like), found '\(opToken.text)'")
        }
        index += 1
        guard let v = peek, v.kind == .number || v.kind == .string else {
            throw Self.error(peek?.column ?? endColumn, "expected a value after '\(op)' (a number or a 'quoted' text)")
        }
        index += 1
        let value: Value = v.kind == .number ? .number(Double(v.text)!) : .text(v.text)
        return .comparison(field, op, value, column: t.column)
    }
}
