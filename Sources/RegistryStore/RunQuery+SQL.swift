import Foundation
import GRDB

extension RunQuery {
    /// How a compiled comparison reaches a run's params, tags and metrics.
    enum Reach {
        /// `r.id IN (SELECT runId FROM … WHERE …)`: an index yields every matching run at once;
        /// the plan when the filter drives the search, and PostgreSQL's in the ordered walk (a
        /// hash join with the walk's candidates, over covering indexes).
        case matchingSet
        /// `EXISTS (SELECT 1 FROM … WHERE runId = o.runId AND …)`: one primary-key probe per run;
        /// SQLite's plan when a walk over `o`, the `latestMetric` rows of a metric in order, drives.
        case perRun
    }

    /// Compiles a filter to a WHERE clause over `run r` and its bound arguments. Both reaches give
    /// the same truth value for every run, including under `not` and for runs lacking a key. Inside
    /// a walk over `o` (the `latestMetric` rows of metric `walking`), comparisons on that metric
    /// read `o.value` itself.
    static func compile(
        _ filter: Filter,
        reach: Reach = .matchingSet,
        walking: String? = nil
    ) throws -> (sql: String, arguments: StoreArguments) {
        switch filter {
        case .and(let a, let b), .or(let a, let b):
            let (sa, aa) = try compile(a, reach: reach, walking: walking)
            let (sb, ab) = try compile(b, reach: reach, walking: walking)
            let joiner: String
            if case .and = filter { joiner = "AND" } else { joiner = "OR" }
            return ("(\(sa) \(joiner) \(sb))", aa + ab)
        case .not(let inner):
            let (s, a) = try compile(inner, reach: reach, walking: walking)
            return ("NOT \(s)", a)
        case .comparison(let field, let op, let value, let column):
            func number() throws -> Double {
                guard case .number(let d) = value else {
                    throw error(column, "\(describe(field)) compares to numbers, not text")
                }
                return d
            }
            /// `column op ?`; `like` folds ASCII case on both sides (`lower`), as SQLite's LIKE does and
            /// PostgreSQL's, case-sensitive, would not, so a pattern matches the same on both backends.
            func compared(_ column: String) -> String {
                op == "like" ? "lower(\(column)) LIKE lower(?)" : "\(column) \(op) ?"
            }
            func notLike() throws {
                if op == "like" { throw error(column, "'like' compares text; \(describe(field)) is a number") }
            }
            /// Runs with a row of `table` meeting `condition` (and, over all of a run's rows, `having`).
            func rows(in table: String, where condition: String, having: String? = nil) -> String {
                let grouped = having.map { " GROUP BY runId HAVING \($0)" } ?? ""
                return switch reach {
                case .matchingSet: "r.id IN (SELECT runId FROM \(table) WHERE \(condition)\(grouped))"
                // o.runId, not r.id: SQLite then probes before it joins the run row.
                case .perRun: "EXISTS (SELECT 1 FROM \(table) WHERE runId = o.runId AND \(condition)\(grouped))"
                }
            }
            let keyId = "keyId = (SELECT id FROM metricKey WHERE name = ?)"
            switch field {
            case .metric(let key):
                try notLike()
                if walking == key { return ("o.value \(op) ?", [try number()]) }
                return (rows(in: "latestMetric", where: "\(keyId) AND value \(op) ?"), [key, try number()])
            case .metricMax(let key), .metricMin(let key):
                try notLike()
                // Each chunk keeps its least and greatest value: no series bytes are read.
                let aggregate = if case .metricMax = field { "max(maxValue)" } else { "min(minValue)" }
                return (
                    rows(in: "metricChunk", where: keyId, having: "\(aggregate) \(op) ?"), [key, try number()]
                )
            case .param(let key):
                if case .number(let d) = value, op != "like" {
                    return (rows(in: "runParam", where: "key = ? AND number \(op) ?"), [key, d])
                }
                return (rows(in: "runParam", where: "key = ? AND \(compared("value"))"), [key, text(value)])
            case .tag(let key):
                return (rows(in: "runTag", where: "key = ? AND \(compared("value"))"), [key, text(value)])
            case .attribute(let name):
                switch name {
                case "model": return ("r.modelId IN (SELECT id FROM model WHERE \(compared("name")))", [text(value)])
                case "version":
                    try notLike()
                    return ("r.versionId IN (SELECT id FROM modelVersion WHERE number \(op) ?)", [try number()])
                case "kind", "status", "name": return (compared("r.\(name)"), [text(value)])
                case "experiment":
                    try notLike()
                    return ("r.experimentId \(op) ?", [try number()])
                case "created":
                    try notLike()
                    return ("r.startedAt \(op) ?", [try timestamp(value, column: column)])
                default:
                    try notLike()
                    return ("r.id \(op) ?", [try number()])
                }
            }
        }
    }

    static func text(_ value: Value) -> String {
        switch value {
        case .text(let s): s
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        }
    }

    static func timestamp(_ value: Value, column: Int) throws -> Double {
        switch value {
        case .number(let d): return d
        case .text(let s):
            let full = ISO8601DateFormatter()
            if let date = full.date(from: s) { return date.timeIntervalSince1970 }
            let day = ISO8601DateFormatter()
            day.formatOptions = [.withFullDate]
            if let date = day.date(from: s) { return date.timeIntervalSince1970 }
            throw error(column, "'\(s)' is not a date; use Unix seconds, 2026-11-29 or 2026-11-29T12:00:00Z")
        }
    }

    static func describe(_ field: Field) -> String {
        switch field {
        case .metric(let k): "metrics.\(k)"
        case .metricMax(let k): "max(metrics.\(k))"
        case .metricMin(let k): "min(metrics.\(k))"
        case .param(let k): "params.\(k)"
        case .tag(let k): "tags.\(k)"
        case .attribute(let a): a
        }
    }

    /// An `--order-by`: `FIELD [asc|desc]`, descending by default for metrics, ascending otherwise;
    /// ties go to the newest run.
    enum Order: Sendable {
        /// By a metric's latest value; runs without it come last.
        case metric(String, descending: Bool)
        /// By a param or a run attribute.
        case other(sql: String, arguments: StoreArguments)

        static let newestFirst = Order.other(sql: "r.id DESC", arguments: [])

        init(_ text: String) throws {
            // FIELD [asc|desc]; a key with spaces is quoted in backticks (metrics.`val acc` desc).
            var parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            var direction: String?
            if parts.count >= 2, !parts[parts.count - 1].hasSuffix("`") {
                direction = parts.removeLast().uppercased()
            }
            let field = parts.joined(separator: " ").replacingOccurrences(of: "`", with: "")
            guard !field.isEmpty, parts.count == 1 || text.contains("`") else {
                throw RegistryError(.invalidInput, "Invalid --order-by '\(text)': use FIELD [asc|desc].")
            }
            guard direction == nil || direction == "ASC" || direction == "DESC" else {
                throw RegistryError(.invalidInput, "Invalid --order-by '\(text)': the direction is 'asc' or 'desc'.")
            }
            if field.hasPrefix("metrics.") {
                self = .metric(String(field.dropFirst(8)), descending: direction != "ASC")
            } else if field.hasPrefix("params.") {
                self = .other(
                    sql:
                        "(SELECT coalesce(number, value) FROM runParam WHERE runId = r.id AND key = ?) \(direction ?? "ASC") NULLS LAST, r.id DESC",
                    arguments: [String(field.dropFirst(7))]
                )
            } else {
                let columns = [
                    "created": "r.startedAt", "id": "r.id", "status": "r.status", "kind": "r.kind", "model": "m.name",
                    "version": "v.number", "ended": "r.endedAt", "name": "r.name", "experiment": "r.experimentId",
                ]
                guard let column = columns[field] else {
                    throw RegistryError(
                        .invalidInput,
                        "Invalid --order-by field '\(field)': use metrics.*, params.*, created, ended, id, name, experiment, status, kind, model or version."
                    )
                }
                self = .other(sql: "\(column) \(direction ?? "ASC"), r.id DESC", arguments: [])
            }
        }

        /// The ORDER BY clause over `run r` (with `model m` and `modelVersion v` joined).
        var sql: (String, StoreArguments) {
            switch self {
            case .metric(let key, let descending):
                (
                    "(SELECT value FROM latestMetric WHERE runId = r.id AND keyId = (SELECT id FROM metricKey WHERE name = ?)) \(descending ? "DESC" : "ASC") NULLS LAST, r.id DESC",
                    [key]
                )
            case .other(let sql, let arguments):
                (sql, arguments)
            }
        }
    }
}
