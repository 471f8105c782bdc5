import GRDB

extension Registry {
    /// Points `alias` at a version of `model` and appends an event (`set` for a new alias,
    /// `move` otherwise). A move costs the same whatever the number of versions (indexed lookups).
    /// - Parameters:
    ///   - alias: the alias's name.
    ///   - model: the model whose version it names.
    ///   - version: the version number (a live version of `model`).
    ///   - reason: why, recorded with the event.
    ///   - comparison: the comparison that justified the move (a promotion), if any.
    ///   - forced: true when a failing promotion gate was overridden.
    /// - Returns: the recorded event.
    @discardableResult
    public func setAlias(
        _ alias: String,
        model: String,
        version: Int,
        reason: String = "",
        comparison: Int64? = nil,
        forced: Bool = false
    ) async throws -> AliasEvent {
        try Names.validateAlias(alias)
        try Names.validateValue(reason, as: "Reason")
        return try await write { db in
            try Self.moveAlias(
                alias,
                model: model,
                to: .number(version),
                action: nil,
                reason: reason,
                comparison: comparison,
                forced: forced,
                principal: principal,
                in: db
            )
        }
    }

    /// Removes an alias, recording a `delete` event.
    @discardableResult
    public func deleteAlias(_ alias: String, model: String, reason: String = "") async throws -> AliasEvent {
        try Names.validateAlias(alias)
        return try await write { db in
            let modelId = try Self.requireModel(model, in: db).id
            guard
                let current = try db.fetchOne(
                    Int64.self,
                    sql: "SELECT versionId FROM alias WHERE modelId = ? AND name = ?",
                    arguments: [modelId, alias]
                )
            else { throw RegistryError(.notFound, "Alias '\(alias)' does not exist for model '\(model)'.") }
            try db.execute(sql: "DELETE FROM alias WHERE modelId = ? AND name = ?", arguments: [modelId, alias])
            return try Self.appendEvent(
                model: model,
                modelId: modelId,
                alias: alias,
                action: .delete,
                from: current,
                to: nil,
                reason: reason,
                comparison: nil,
                forced: false,
                principal: principal,
                in: db
            )
        }
    }

    /// The aliases of a model: name → version number.
    public func aliases(of model: String) async throws -> [(alias: String, version: Int, updatedAt: Double)] {
        try await read { db in
            let modelId = try Self.requireModel(model, in: db).id
            return try db.fetchAll(
                StoreRow.self,
                sql:
                    "SELECT a.name, v.number, a.updatedAt FROM alias a JOIN modelVersion v ON v.id = a.versionId WHERE a.modelId = ? ORDER BY a.name",
                arguments: [modelId]
            ).map { ($0["name"], $0["number"], $0["updatedAt"]) }
        }
    }

    /// The alias events of a model (optionally one alias), newest first.
    public func aliasEvents(of model: String, alias: String? = nil) async throws -> [AliasEvent] {
        try await read { db in
            let modelId = try Self.requireModel(model, in: db).id
            return try Self.events(modelId: modelId, model: model, alias: alias, in: db).reversed()
        }
    }

    /// Moves `alias` back to the target it had before its latest move.
    ///
    /// Rollbacks chain: after moves 1 → 2 → 3, a rollback goes to 2 and another to 1 (each set or
    /// move pushes the previous target; each rollback pops one). The target's tensors are
    /// verified first; a target that fails verification is refused and nothing changes.
    @discardableResult
    public func rollback(_ alias: String, model: String, reason: String = "") async throws -> AliasEvent {
        try Names.validateAlias(alias)
        return try await write { db in
            let modelId = try Self.requireModel(model, in: db).id
            var stack: [Int64] = []
            for event in try Self.eventRows(modelId: modelId, alias: alias, in: db) {
                switch event.action {
                case .set, .move: if let from = event.from { stack.append(from) }
                case .rollback: _ = stack.popLast()
                case .delete: stack.removeAll()
                }
            }
            guard let target = stack.last else {
                throw RegistryError(
                    .notFound,
                    "Alias '\(alias)' of model '\(model)' has no earlier target to roll back to."
                )
            }
            let previous = try Self.version(id: target, in: db)
            let label = previous.reference
            if let deletion = previous.deletion {
                throw RegistryError(
                    .conflict,
                    "Refusing to roll '\(alias)' back to \(label): it was deleted by \(deletion.by) at \(isoDate(deletion.at)). Point the alias at a live version with 'fusebox alias set'."
                )
            }
            do {
                _ = try Self.loadTensors(versionId: target, label: label, verify: true, blobs: blobs, in: db)
            } catch let error as RegistryError where error.code == .corruptData {
                throw RegistryError(
                    .corruptData,
                    "Refusing to roll '\(alias)' back to \(label): \(error.message)",
                    cause: error
                )
            }
            return try Self.moveAlias(
                alias,
                model: model,
                to: .id(target),
                action: .rollback,
                reason: reason,
                comparison: nil,
                forced: false,
                principal: principal,
                in: db
            )
        }
    }

    // MARK: - Synchronous helpers

    // An alias move is a handful of small statements, and compiling each one anew took two thirds
    // of its time (fusebox-bench: 1,389 moves/s before, 3,800-4,400 after): `SQLiteSQL` prepares
    // every statement once per connection.

    /// A version an alias is pointed at: a version's row id, or a live version's number within
    /// the model whose alias moves.
    enum AliasTarget {
        case id(Int64)
        case number(Int)
    }

    /// Points `alias` at `target` and appends the event. One query finds the target (its model and
    /// number) and where the alias points now; a target that is not found is explained by
    /// ``resolve(_:in:)`` (no such model, no such version, a deleted one).
    static func moveAlias(
        _ alias: String,
        model: String,
        to target: AliasTarget,
        action: AliasEvent.Action?,
        reason: String,
        comparison: Int64?,
        forced: Bool,
        principal: String,
        in db: any StoreSQL
    ) throws -> AliasEvent {
        let (filter, arguments): (String, StoreArguments) =
            switch target {
            case .id(let id): ("v.id = ?", [id])
            case .number(let number):
                (
                    "v.modelId = (SELECT id FROM model WHERE name = ?) AND v.number = ? AND v.deletedAt IS NULL",
                    [model, number]
                )
            }
        guard
            let found = try db.fetchOne(
                StoreRow.self,
                sql: """
                    SELECT v.id, v.modelId, v.number, a.versionId AS currentId, c.number AS currentNumber
                    FROM modelVersion v LEFT JOIN alias a ON a.modelId = v.modelId AND a.name = ?
                    LEFT JOIN modelVersion c ON c.id = a.versionId
                    WHERE \(filter)
                    """,
                arguments: [alias] + arguments
            )
        else {
            switch target {
            case .id(let id):
                throw RegistryError(.notFound, "There is no version with id \(id) of model '\(model)'.")
            case .number(let number):
                _ = try resolve(VersionReference(model: model, selector: .number(number)), in: db)
                throw RegistryError(.notFound, "Model '\(model)' has no version \(number).")
            }
        }
        let modelId: Int64 = found["modelId"]
        let current: Int64? = found["currentId"]
        try db.execute(
            sql: """
                INSERT INTO alias (modelId, name, versionId, updatedAt) VALUES (?, ?, ?, ?)
                ON CONFLICT (modelId, name) DO UPDATE SET versionId = excluded.versionId, updatedAt = excluded.updatedAt
                """,
            arguments: [modelId, alias, found["id"] as Int64, Clock.unixSeconds()]
        )
        return try appendEvent(
            model: model,
            modelId: modelId,
            alias: alias,
            action: action ?? (current == nil ? .set : .move),
            from: current,
            to: found["id"],
            reason: reason,
            comparison: comparison,
            forced: forced,
            principal: principal,
            numbers: (found["currentNumber"], found["number"]),
            in: db
        )
    }

    /// Moves `alias` to version `number` only if it still points at version `expected` (nil: only if
    /// it does not exist yet): the compare-and-swap that keeps two promotions from both passing
    /// against the same, stale baseline.
    static func moveAliasIfUnchanged(
        _ alias: String,
        model: String,
        expecting expected: Int?,
        to number: Int,
        reason: String,
        comparison: Int64?,
        forced: Bool,
        principal: String,
        in db: any StoreSQL
    ) throws -> AliasEvent {
        let modelId = try requireModel(model, in: db).id
        let now = try db.fetchOne(
            Int.self,
            sql:
                "SELECT v.number FROM alias a JOIN modelVersion v ON v.id = a.versionId WHERE a.modelId = ? AND a.name = ?",
            arguments: [modelId, alias]
        )
        guard now == expected else {
            let was = expected.map { "\(model)@\($0)" } ?? "nothing"
            let isNow = now.map { "\(model)@\($0)" } ?? "nothing"
            throw RegistryError(
                .conflict,
                "'\(alias)' moved from \(was) to \(isNow) while this promotion was being judged; nothing was moved. The comparison is kept; promote again to judge against \(isNow)."
            )
        }
        return try moveAlias(
            alias,
            model: model,
            to: .number(number),
            action: nil,
            reason: reason,
            comparison: comparison,
            forced: forced,
            principal: principal,
            in: db
        )
    }

    /// Appends one event to an alias's history and returns it: built from what the caller knows
    /// when it gives the versions' numbers, else read back.
    static func appendEvent(
        model: String,
        modelId: Int64,
        alias: String,
        action: AliasEvent.Action,
        from: Int64?,
        to: Int64?,
        reason: String,
        comparison: Int64?,
        forced: Bool,
        principal: String,
        numbers: (from: Int?, to: Int?)? = nil,
        in db: any StoreSQL
    ) throws -> AliasEvent {
        let createdAt = Clock.unixSeconds()
        let id = try db.insertReturningID(
            sql: """
                INSERT INTO aliasEvent (modelId, alias, action, fromVersionId, toVersionId, reason, comparisonId, forced, createdAt, principal)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [modelId, alias, action.rawValue, from, to, reason, comparison, forced, createdAt, principal]
        )
        guard let numbers else {
            return try events(modelId: modelId, model: model, alias: alias, in: db, onlyId: id)[0]
        }
        return AliasEvent(
            id: id,
            model: model,
            alias: alias,
            action: action,
            fromVersion: numbers.from,
            toVersion: numbers.to,
            reason: reason,
            comparison: comparison,
            forced: forced,
            createdAt: createdAt,
            principal: principal
        )
    }

    static func eventRows(
        modelId: Int64,
        alias: String,
        in db: any StoreSQL
    ) throws -> [(action: AliasEvent.Action, from: Int64?, to: Int64?)] {
        try db.fetchAll(
            StoreRow.self,
            sql:
                "SELECT action, fromVersionId, toVersionId FROM aliasEvent WHERE modelId = ? AND alias = ? ORDER BY id",
            arguments: [modelId, alias]
        ).map { (AliasEvent.Action(rawValue: $0["action"]) ?? .set, $0["fromVersionId"], $0["toVersionId"]) }
    }

    /// Events oldest first.
    static func events(
        modelId: Int64,
        model: String,
        alias: String?,
        in db: any StoreSQL,
        onlyId: Int64? = nil
    ) throws -> [AliasEvent] {
        var sql = """
            SELECT e.id, e.alias, e.action, f.number AS fromNumber, t.number AS toNumber, e.reason, e.comparisonId, e.forced, e.createdAt,
                e.principal
            FROM aliasEvent e LEFT JOIN modelVersion f ON f.id = e.fromVersionId LEFT JOIN modelVersion t ON t.id = e.toVersionId
            WHERE e.modelId = ?
            """
        var arguments: StoreArguments = [modelId]
        if let alias {
            sql += " AND e.alias = ?"
            arguments += [alias]
        }
        if let onlyId {
            sql += " AND e.id = ?"
            arguments += [onlyId]
        }
        return try db.fetchAll(StoreRow.self, sql: sql + " ORDER BY e.id", arguments: arguments).map { row in
            AliasEvent(
                id: row["id"],
                model: model,
                alias: row["alias"],
                action: AliasEvent.Action(rawValue: row["action"]) ?? .set,
                fromVersion: row["fromNumber"],
                toVersion: row["toNumber"],
                reason: row["reason"],
                comparison: row["comparisonId"],
                forced: row["forced"],
                createdAt: row["createdAt"],
                principal: row["principal"]
            )
        }
    }
}
