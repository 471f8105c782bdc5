import GRDB

extension Registry {
    /// Runs, filtered and ordered.
    ///
    /// ```swift
    /// try await registry.searchRuns(where: "metrics.val_accuracy > 0.9 and params.method = 'weighted-average'",
    ///                               orderBy: "metrics.val_accuracy desc", limit: 10)
    /// ```
    ///
    /// Ordered by a metric, the search first walks that metric's index in order, testing each run,
    /// and stops when the page is full (`orderedWalk`); otherwise, or when the walk does not fill
    /// the page, the filter's matching sets are intersected and sorted. Both give the same page.
    /// - Throws: ``RegistryError`` `invalidInput` naming the column where a query breaks.
    public func searchRuns(
        model: String? = nil,
        where query: String? = nil,
        orderBy: String? = nil,
        limit: Int = 100,
        offset: Int = 0,
        lifecycle: RunLifecycle = .active
    ) async throws -> [RunSummary] {
        guard (1...1_000_000).contains(limit) else {
            throw RegistryError(.invalidInput, "--limit must be between 1 and 1000000.")
        }
        guard offset >= 0 else { throw RegistryError(.invalidInput, "The offset must not be negative.") }
        var parsed = try query.map(RunQuery.parse)
        if let model {
            try Names.validate(model, as: "Model name")
            let byModel = RunQuery.Filter.comparison(.attribute("model"), "=", .text(model), column: 0)
            parsed = parsed.map { .and(byModel, $0) } ?? byModel
        }
        let filter = parsed
        let order = try orderBy.map(RunQuery.Order.init) ?? .newestFirst
        let (whereSQL, arguments) = try filter.map { try RunQuery.compile($0) } ?? ("1 = 1", [])
        let (orderSQL, orderArguments) = order.sql
        return try await read { db in
            if case .metric(let key, let descending) = order, lifecycle == .active,
                let page = try Self.orderedWalk(
                    by: key,
                    descending: descending,
                    filter: filter,
                    limit: offset + limit,
                    in: db
                )
            {
                return Array(page.dropFirst(offset))
            }
            return try Self.runSummaries(
                whereSQL: whereSQL,
                arguments: arguments + orderArguments,
                orderSQL: orderSQL,
                limit: limit,
                offset: offset,
                lifecycle: lifecycle,
                in: db
            )
        }
    }

    /// The first `limit` runs by metric `key` that pass `filter`, found by walking the metric's
    /// `(keyId, value)` index in order and testing each run: on SQLite by probing its rows, so a
    /// filter that most top runs pass costs about `limit / selectivity` probes, whatever the
    /// store's size; on PostgreSQL, where a probe costs several times more, by joining the
    /// candidates with each filter's matching set (`reach`, chosen by ``StoreSQL/probesAreCheap``
    /// unless given).
    ///
    /// The walk reaches at most the first `16 × limit` values (and their ties). It returns `nil`
    /// when fewer runs than that have the metric, or when the walk yields fewer than `limit` runs:
    /// the matching sets answer those (a sparse filter on a large store thus pays up to
    /// `16 × limit` probes first). A full page is exact — every run it skipped ranks lower, and
    /// runs without the metric rank last.
    static func orderedWalk(
        by key: String,
        descending: Bool,
        filter: RunQuery.Filter?,
        limit: Int,
        reach: RunQuery.Reach? = nil,
        in db: any StoreSQL
    ) throws -> [RunSummary]? {
        guard let keyId = try db.fetchOne(Int64.self, sql: "SELECT id FROM metricKey WHERE name = ?", arguments: [key])
        else { return nil }
        let direction = descending ? "DESC" : "ASC"
        // Fewer runs than the walk's extent: the matching sets are small too, and cheaper than
        // probing. (The largest run id bounds the count without counting.)
        let extent = 16 * limit
        guard try db.fetchOne(Int.self, sql: "SELECT max(id) FROM run") ?? 0 >= extent,
            let bound = try db.fetchOne(
                Double.self,
                sql: "SELECT value FROM latestMetric WHERE keyId = ? ORDER BY value \(direction) LIMIT 1 OFFSET ?",
                arguments: [keyId, extent - 1]
            )
        else { return nil }
        var whereSQL = "o.keyId = ? AND o.value \(descending ? ">=" : "<=") ?"
        var arguments: StoreArguments = [keyId, bound]
        if let filter {
            let (sql, filterArguments) = try RunQuery.compile(
                filter,
                reach: reach ?? (db.probesAreCheap ? .perRun : .matchingSet),
                walking: key
            )
            whereSQL += " AND \(sql)"
            arguments += filterArguments
        }
        let page = try runSummaries(
            from: "latestMetric o JOIN run r ON r.id = o.runId",
            whereSQL: whereSQL,
            arguments: arguments,
            orderSQL: "o.value \(direction), o.runId DESC",
            limit: limit,
            in: db
        )
        return page.count == limit ? page : nil
    }

    /// Checks a `--where` expression without running it: parses and compiles it to SQL.
    /// - Throws: ``RegistryError`` `invalidInput` naming the column where it breaks.
    public static func validateQuery(_ query: String) throws {
        _ = try RunQuery.compile(RunQuery.parse(query))
    }
}
