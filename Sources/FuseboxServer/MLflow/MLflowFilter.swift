import Foundation
import RegistryStore

/// MLflow's search filter strings (`metrics.acc > 0.9 and params.lr = '0.01'`): clauses joined by
/// `AND`, each `ENTITY.KEY OP VALUE`, a key quoted in backticks or double quotes when it must be.
/// For runs the clauses are translated into Fusebox's query language (``runQuery(experiments:)``)
/// and searched by the registry; experiments, models and versions are few and filtered here.
struct MLflowFilter {
    enum Entity: Equatable { case metric, param, tag, attribute }

    enum Value: Equatable {
        case number(Double)
        case text(String)
        case list([String])
        case null
    }

    struct Clause: Equatable {
        let entity: Entity
        let key: String
        /// `=`, `!=`, `<`, `<=`, `>`, `>=`, `LIKE`, `ILIKE`, `IN`, `NOT IN`, `IS`, `IS NOT`.
        let op: String
        let value: Value
    }

    let clauses: [Clause]

    init(_ text: String?) throws {
        let text = text?.trimmingCharacters(in: .whitespaces) ?? ""
        clauses = text.isEmpty ? [] : try Self.parse(text)
    }

    // MARK: - Runs

    /// The filter in Fusebox's query language, restricted to `experiments` (none: every one).
    func runQuery(experiments: [Int64]) throws -> String? {
        var parts = try clauses.map(Self.translate)
        if !experiments.isEmpty {
            parts.insert("(" + experiments.map { "experiment = \($0)" }.joined(separator: " or ") + ")", at: 0)
        }
        return parts.isEmpty ? nil : parts.joined(separator: " and ")
    }

    static func translate(_ clause: Clause) throws -> String {
        let op =
            switch clause.op {
            case "LIKE", "ILIKE": "like"
            case "IN", "NOT IN", "IS", "IS NOT": clause.op
            default: clause.op
            }
        switch clause.entity {
        case .metric:
            guard case .number(let n) = clause.value, !["LIKE", "ILIKE", "IN", "NOT IN"].contains(clause.op) else {
                throw MLflowError.invalid("Metric '\(clause.key)' compares with a number (=, !=, <, <=, >, >=).")
            }
            return "metrics.\(try quotedKey(clause.key)) \(op) \(number(n))"
        case .param, .tag:
            let field = "\(clause.entity == .param ? "params" : "tags").\(try quotedKey(clause.key))"
            switch clause.value {
            case .text(let s):
                guard ["=", "!=", "LIKE", "ILIKE"].contains(clause.op) else {
                    throw MLflowError.invalid("'\(field)' takes =, !=, LIKE or ILIKE, not \(clause.op).")
                }
                return "\(field) \(op) \(quoted(s))"
            case .list(let values) where clause.op == "IN" || clause.op == "NOT IN":
                return membership(field, values, negated: clause.op == "NOT IN")
            default:
                throw MLflowError.invalid("'\(field)' compares with a quoted text.")
            }
        case .attribute:
            return try attribute(clause, op: op)
        }
    }

    static func attribute(_ clause: Clause, op: String) throws -> String {
        switch clause.key {
        case "status":
            let statuses = ["RUNNING": "running", "FINISHED": "finished", "FAILED": "failed", "KILLED": "failed"]
            func status(_ s: String) throws -> String {
                guard let mapped = statuses[s.uppercased()] else {
                    throw MLflowError.invalid("Unknown run status '\(s)'; use RUNNING, FINISHED, FAILED or KILLED.")
                }
                return mapped
            }
            switch clause.value {
            case .text(let s) where clause.op == "=" || clause.op == "!=":
                return "status \(op) \(quoted(try status(s)))"
            case .list(let values): return membership("status", try values.map(status), negated: clause.op == "NOT IN")
            default: throw MLflowError.invalid("attributes.status takes = or != with a quoted status, or IN (…).")
            }
        case "run_name":
            switch clause.value {
            case .text(let s) where ["=", "!=", "LIKE", "ILIKE"].contains(clause.op): return "name \(op) \(quoted(s))"
            case .list(let values): return membership("name", values, negated: clause.op == "NOT IN")
            default: throw MLflowError.invalid("attributes.run_name takes =, !=, LIKE or ILIKE with a quoted name.")
            }
        case "run_id":
            let ids: [String]
            switch clause.value {
            case .text(let s) where clause.op == "=" || clause.op == "!=": ids = [s]
            case .list(let values) where clause.op == "IN" || clause.op == "NOT IN": ids = values
            default: throw MLflowError.invalid("attributes.run_id takes =, !=, IN or NOT IN with quoted ids.")
            }
            guard ids.allSatisfy({ Int64($0) != nil }) else {
                throw MLflowError.invalid(
                    "Run ids on this server are whole numbers, got \(ids.map(quoted).joined(separator: ", "))."
                )
            }
            if clause.op == "=" || clause.op == "!=" { return "id \(op) \(ids[0])" }
            return "("
                + ids.map { "id \(clause.op == "IN" ? "=" : "!=") \($0)" }.joined(
                    separator: clause.op == "IN" ? " or " : " and "
                ) + ")"
        case "start_time", "created":
            guard case .number(let ms) = clause.value, !["LIKE", "ILIKE", "IN", "NOT IN"].contains(clause.op) else {
                throw MLflowError.invalid("attributes.start_time compares with a number of milliseconds.")
            }
            return "created \(op) \(number(ms / 1000))"
        default:
            throw MLflowError.invalid(
                "Fusebox cannot filter runs by attributes.\(clause.key); use status, run_name, run_id or start_time."
            )
        }
    }

    static func membership(_ field: String, _ values: [String], negated: Bool) -> String {
        guard !values.isEmpty else { return negated ? "id > 0" : "id < 0" }
        return "("
            + values.map { "\(field) \(negated ? "!=" : "=") \(quoted($0))" }.joined(
                separator: negated ? " and " : " or "
            ) + ")"
    }

    static func quotedKey(_ key: String) throws -> String {
        guard !key.contains("`") else { throw MLflowError.invalid("Keys containing '`' cannot be searched.") }
        return "`\(key)`"
    }

    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// MLflow's `order_by` for runs (`metrics.acc DESC`, `attributes.start_time`; ascending unless
    /// told) as a Fusebox `--order-by`.
    static func runOrder(_ orderBy: [String]) throws -> String? {
        guard let first = orderBy.first else { return nil }
        guard orderBy.count == 1 else {
            throw MLflowError.invalid("Fusebox orders runs by one field; got \(orderBy.count) in order_by.")
        }
        var parts = first.split(separator: " ").map(String.init)
        var direction = "ASC"
        if parts.count >= 2, ["ASC", "DESC"].contains(parts[parts.count - 1].uppercased()) {
            direction = parts.removeLast().uppercased()
        }
        guard !parts.isEmpty, let identifier = try? tokenize(parts.joined(separator: " ")), identifier.count == 1,
            case .word(let word) = identifier[0]
        else { throw MLflowError.invalid("Invalid order_by clause '\(first)'.") }
        let (entity, key) = try splitIdentifier(word)
        let field: String
        switch entity {
        case .metric: field = "metrics.\(try quotedKey(key))"
        case .param: field = "params.\(try quotedKey(key))"
        case .tag: throw MLflowError.invalid("Fusebox cannot order runs by a tag.")
        case .attribute:
            let columns = [
                "start_time": "created", "end_time": "ended", "run_name": "name", "status": "status", "run_id": "id",
                "created": "created",
            ]
            guard let column = columns[key] else {
                throw MLflowError.invalid("Fusebox cannot order runs by attributes.\(key).")
            }
            field = column
        }
        return "\(field) \(direction.lowercased())"
    }

    // MARK: - In memory

    /// True when `fields` (an entity's attributes and tags) pass every clause; `LIKE` patterns use
    /// `%` and `_`, case-sensitive (`ILIKE`: insensitive).
    func matches(attributes: [String: String], tags: [String: String]) -> Bool {
        clauses.allSatisfy { clause in
            let actual: String? =
                switch clause.entity {
                case .tag: tags[clause.key]
                case .attribute: attributes[clause.key]
                default: nil
                }
            switch (clause.op, clause.value) {
            case ("IS", .null): return actual == nil
            case ("IS NOT", .null): return actual != nil
            case ("!=", _),
                ("NOT IN", _) where actual == nil:
                // Absent differs from any value (MLflow's own prompt filter, `tags.… != 'true'`, relies on it).
                return true
            case (_, .list(let values)):
                guard let actual else { return false }
                return values.contains(actual) == (clause.op == "IN")
            case (_, .number(let n)):
                guard let actual, let a = Double(actual) else { return false }
                return Self.compare(a, clause.op, n)
            case (_, .text(let s)):
                guard let actual else { return false }
                switch clause.op {
                case "=": return actual == s
                case "!=": return actual != s
                case "LIKE": return Self.like(actual, s, caseSensitive: true)
                case "ILIKE": return Self.like(actual, s, caseSensitive: false)
                default: return Self.compare(actual, clause.op, s)
                }
            default: return false
            }
        }
    }

    /// Refuses clauses on entities or attributes other than `allowed` (names of attributes).
    func require(attributes allowed: Set<String>, tags: Bool, what: String) throws {
        for clause in clauses {
            switch clause.entity {
            case .tag where tags: continue
            case .attribute where allowed.contains(clause.key): continue
            default:
                throw MLflowError.invalid(
                    "Invalid filter for \(what): '\(clause.key)'; use \(allowed.sorted().joined(separator: ", "))\(tags ? " or tags.*" : "")."
                )
            }
        }
    }

    static func compare<T: Comparable>(_ a: T, _ op: String, _ b: T) -> Bool {
        switch op {
        case "=": a == b
        case "!=": a != b
        case "<": a < b
        case "<=": a <= b
        case ">": a > b
        case ">=": a >= b
        default: false
        }
    }

    /// SQL `LIKE`: `%` any run of characters, `_` one character.
    static func like(_ text: String, _ pattern: String, caseSensitive: Bool) -> Bool {
        let t = Array(caseSensitive ? text : text.lowercased())
        let p = Array(caseSensitive ? pattern : pattern.lowercased())
        // Dynamic programming over (pattern prefix, text prefix).
        var row = [Bool](repeating: false, count: t.count + 1)
        row[0] = true
        for c in p {
            var next = [Bool](repeating: false, count: t.count + 1)
            if c == "%" {
                var seen = false
                for j in 0...t.count {
                    seen = seen || row[j]
                    next[j] = seen
                }
            } else {
                for j in 1...max(1, t.count) where j <= t.count {
                    next[j] = row[j - 1] && (c == "_" || t[j - 1] == c)
                }
            }
            row = next
        }
        return row[t.count]
    }

    // MARK: - Parsing

    static func parse(_ text: String) throws -> [Clause] {
        var tokens = try tokenize(text)
        var clauses: [Clause] = []
        func fail(_ message: String) -> MLflowError { .invalid("Invalid filter '\(text)': \(message).") }
        while !tokens.isEmpty {
            guard case .word(let identifier) = tokens.removeFirst() else { throw fail("expected a field") }
            let (entity, key) = try splitIdentifier(identifier)
            guard !tokens.isEmpty, case .word(var op) = tokens.removeFirst() else {
                throw fail("expected an operator after '\(identifier)'")
            }
            op = op.uppercased()
            if op == "NOT" || op == "IS", case .word(let second)? = tokens.first,
                ["IN", "NOT"].contains(second.uppercased())
            {
                tokens.removeFirst()
                op += " " + second.uppercased()
            }
            guard ["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS", "IS NOT"].contains(op) else {
                throw fail("unknown operator '\(op)'")
            }
            guard !tokens.isEmpty else { throw fail("expected a value after '\(op)'") }
            let value: Value
            switch tokens.removeFirst() {
            case .number(let n): value = .number(n)
            case .string(let s): value = .text(s)
            case .list(let values): value = .list(values)
            case .word(let w) where w.uppercased() == "NULL": value = .null
            case .word(let w): throw fail("'\(w)' is not a value; quote texts")
            }
            if case .list = value, op != "IN" && op != "NOT IN" { throw fail("a list goes with IN or NOT IN") }
            if case .null = value, op != "IS" && op != "IS NOT" { throw fail("NULL goes with IS or IS NOT") }
            clauses.append(Clause(entity: entity, key: key, op: op, value: value))
            if let next = tokens.first {
                guard case .word(let and) = next, and.uppercased() == "AND" else {
                    throw fail("clauses are joined by AND (MLflow has no OR)")
                }
                tokens.removeFirst()
                if tokens.isEmpty { throw fail("nothing after AND") }
            }
        }
        return clauses
    }

    /// `metrics.acc` → (.metric, "acc"); `attributes.status`, `attribute.status`, `run.status` or a
    /// bare `status` → (.attribute, "status"). A key may be quoted: metrics.`my key`, tags."a b".
    static func splitIdentifier(_ identifier: String) throws -> (Entity, String) {
        guard let dot = identifier.firstIndex(of: ".") else { return (.attribute, identifier) }
        let prefix = identifier[..<dot].lowercased()
        var key = String(identifier[identifier.index(after: dot)...])
        if key.count >= 2, let first = key.first, first == "`" || first == "\"", key.last == first {
            key = String(key.dropFirst().dropLast())
        }
        guard !key.isEmpty else { throw MLflowError.invalid("'\(identifier)' names no key.") }
        switch prefix {
        case "metrics", "metric": return (.metric, key)
        case "params", "param", "parameter", "parameters": return (.param, key)
        case "tags", "tag": return (.tag, key)
        case "attributes", "attribute", "attr", "run": return (.attribute, key)
        default:
            throw MLflowError.invalid(
                "Unknown entity '\(prefix)' in '\(identifier)'; use metrics, params, tags or attributes."
            )
        }
    }

    enum Token {
        case word(String)
        case string(String)
        case number(Double)
        case list([String])
    }

    static func tokenize(_ text: String) throws -> [Token] {
        let chars = Array(text)
        var i = 0
        var tokens: [Token] = []
        func quotedText(_ quote: Character) throws -> String {
            var value = ""
            i += 1
            while i < chars.count, chars[i] != quote {
                value.append(chars[i])
                i += 1
            }
            guard i < chars.count else { throw MLflowError.invalid("Invalid filter '\(text)': unterminated quote.") }
            i += 1
            return value
        }
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                i += 1
            } else if c == "'" {
                tokens.append(.string(try quotedText("'")))
            } else if c == "\"" {
                // A double-quoted text is a value, except right after a '.' (a quoted key).
                tokens.append(.string(try quotedText("\"")))
            } else if c == "(" {
                var values: [String] = []
                i += 1
                while i < chars.count, chars[i] != ")" {
                    if chars[i] == "'" || chars[i] == "\"" {
                        values.append(try quotedText(chars[i]))
                    } else if chars[i] == "," || chars[i].isWhitespace {
                        i += 1
                    } else {
                        throw MLflowError.invalid("Invalid filter '\(text)': a list holds quoted values.")
                    }
                }
                guard i < chars.count else { throw MLflowError.invalid("Invalid filter '\(text)': missing ')'.") }
                i += 1
                tokens.append(.list(values))
            } else if "=!<>".contains(c) {
                var op = String(c)
                i += 1
                if i < chars.count, chars[i] == "=" || (c == "<" && chars[i] == ">") {
                    op.append(chars[i])
                    i += 1
                }
                tokens.append(.word(op == "==" ? "=" : op == "<>" ? "!=" : op))
            } else if c.isNumber || ((c == "-" || c == ".") && i + 1 < chars.count && chars[i + 1].isNumber) {
                var j = i + 1
                while j < chars.count,
                    chars[j].isNumber || chars[j] == "." || chars[j] == "e" || chars[j] == "E"
                        || ((chars[j] == "-" || chars[j] == "+") && "eE".contains(chars[j - 1]))
                {
                    j += 1
                }
                guard let n = Double(String(chars[i..<j])) else {
                    throw MLflowError.invalid("Invalid filter '\(text)': '\(String(chars[i..<j]))' is not a number.")
                }
                tokens.append(.number(n))
                i = j
            } else {
                // An identifier, possibly with a quoted key: metrics.`a b` or tags."a b".
                var j = i
                var word = ""
                while j < chars.count, !chars[j].isWhitespace, !"=!<>(),'".contains(chars[j]) {
                    if chars[j] == "`" || chars[j] == "\"", word.hasSuffix(".") {
                        let quote = chars[j]
                        guard let close = chars[(j + 1)...].firstIndex(of: quote) else {
                            throw MLflowError.invalid("Invalid filter '\(text)': unterminated quoted key.")
                        }
                        word += String(chars[(j + 1)..<close])
                        j = close + 1
                    } else {
                        word.append(chars[j])
                        j += 1
                    }
                }
                guard j > i else { throw MLflowError.invalid("Invalid filter '\(text)': unexpected '\(c)'.") }
                tokens.append(.word(word))
                i = j
            }
        }
        return tokens
    }
}
