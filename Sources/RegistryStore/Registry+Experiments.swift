import GRDB

/// A named group of runs (MLflow's experiment). Experiment 0, "Default", always exists.
public struct Experiment: Sendable, Hashable {
    /// Its id (0 for Default), as MLflow's `experiment_id`.
    public let id: Int64
    /// Its unique name.
    public let name: String
    /// Its tags.
    public let tags: [String: String]
    /// When it was created, in Unix seconds.
    public let createdAt: Double
    /// When it was last renamed, tagged, deleted or restored, in Unix seconds.
    public let updatedAt: Double
    /// Set while the experiment is deleted; ``Registry/restoreExperiment(_:)`` clears it.
    public let deletedAt: Double?
}

extension Registry {
    /// Creates an experiment. - Returns: its id.
    /// - Throws: `alreadyExists` when the name is taken (by a deleted experiment too, as in MLflow).
    public func createExperiment(_ name: String, tags: [String: String] = [:]) async throws -> Int64 {
        try Self.validateExperimentName(name)
        try Self.validateTags(tags)
        return try await write { db in
            if try db.fetchOne(Int64.self, sql: "SELECT id FROM experiment WHERE name = ?", arguments: [name]) != nil {
                throw RegistryError(.alreadyExists, "Experiment '\(name)' already exists.")
            }
            let now = Clock.unixSeconds()
            let id = try db.insertReturningID(
                sql: "INSERT INTO experiment (name, createdAt, updatedAt) VALUES (?, ?, ?)",
                arguments: [name, now, now]
            )
            for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
                try db.execute(
                    sql: "INSERT INTO experimentTag (experimentId, key, value) VALUES (?, ?, ?)",
                    arguments: [id, key, value]
                )
            }
            return id
        }
    }

    /// One experiment, deleted or not.
    public func experiment(_ id: Int64) async throws -> Experiment {
        try await read { db in
            guard let experiment = try Self.experiments(where: "id = ?", [id], in: db).first else {
                throw RegistryError(.notFound, "There is no experiment \(id).")
            }
            return experiment
        }
    }

    /// The experiment with this name, deleted or not.
    public func experiment(named name: String) async throws -> Experiment {
        try await read { db in
            guard let experiment = try Self.experiments(where: "name = ?", [name], in: db).first else {
                throw RegistryError(.notFound, "There is no experiment named '\(name)'.")
            }
            return experiment
        }
    }

    /// Experiments in id order: the live ones, the deleted ones, or all.
    public func experiments(_ lifecycle: RunLifecycle = .active) async throws -> [Experiment] {
        let condition =
            switch lifecycle {
            case .active: "deletedAt IS NULL"
            case .deleted: "deletedAt IS NOT NULL"
            case .all: "1"
            }
        return try await read { db in try Self.experiments(where: condition, [], in: db) }
    }

    /// Renames an experiment.
    public func renameExperiment(_ id: Int64, to name: String) async throws {
        try Self.validateExperimentName(name)
        try await write { db in
            _ = try Self.requireExperiment(id, live: false, in: db)
            if let other = try db.fetchOne(
                Int64.self,
                sql: "SELECT id FROM experiment WHERE name = ?",
                arguments: [name]
            ),
                other != id
            {
                throw RegistryError(.alreadyExists, "Experiment '\(name)' already exists.")
            }
            try db.execute(
                sql: "UPDATE experiment SET name = ?, updatedAt = ? WHERE id = ?",
                arguments: [name, Clock.unixSeconds(), id]
            )
        }
    }

    /// Marks an experiment deleted, and with it (as MLflow does) each of its runs that may be
    /// deleted (see ``deleteRun(_:)``; the others stay). The Default experiment cannot be deleted.
    public func deleteExperiment(_ id: Int64) async throws {
        guard id != 0 else { throw RegistryError(.invalidInput, "The Default experiment (0) cannot be deleted.") }
        try await write { db in
            _ = try Self.requireExperiment(id, live: true, in: db)
            let now = Clock.unixSeconds()
            try db.execute(
                sql: "UPDATE experiment SET deletedAt = ?, updatedAt = ? WHERE id = ?",
                arguments: [now, now, id]
            )
            for run in try db.fetchAll(
                Int64.self,
                sql: "SELECT id FROM run WHERE experimentId = ? AND deletedAt IS NULL",
                arguments: [id]
            ) where try Self.reasonRunIsKept(run, in: db) == nil {
                try db.execute(sql: "UPDATE run SET deletedAt = ? WHERE id = ?", arguments: [now, run])
            }
        }
    }

    /// Brings a deleted experiment back, with the runs its deletion deleted (not purged since).
    public func restoreExperiment(_ id: Int64) async throws {
        try await write { db in
            guard
                let deletedAt = try db.fetchOne(
                    Double.self,
                    sql: "SELECT deletedAt FROM experiment WHERE id = ? AND deletedAt IS NOT NULL",
                    arguments: [id]
                )
            else { throw RegistryError(.notFound, "There is no deleted experiment \(id).") }
            try db.execute(
                sql: "UPDATE experiment SET deletedAt = NULL, updatedAt = ? WHERE id = ?",
                arguments: [Clock.unixSeconds(), id]
            )
            try db.execute(
                sql: "UPDATE run SET deletedAt = NULL WHERE experimentId = ? AND deletedAt = ?",
                arguments: [id, deletedAt]
            )
        }
    }

    /// Sets (`value` non-nil) or removes an experiment's tag.
    public func setExperimentTag(_ id: Int64, key: String, value: String?) async throws {
        try Names.validateKey(key, as: "Tag")
        if let value { try Names.validateValue(value, as: "Tag") }
        try await write { db in
            _ = try Self.requireExperiment(id, live: true, in: db)
            if let value {
                try db.execute(
                    sql: """
                        INSERT INTO experimentTag (experimentId, key, value) VALUES (?, ?, ?)
                        ON CONFLICT (experimentId, key) DO UPDATE SET value = excluded.value
                        """,
                    arguments: [id, key, value]
                )
            } else {
                try db.execute(
                    sql: "DELETE FROM experimentTag WHERE experimentId = ? AND key = ?",
                    arguments: [id, key]
                )
                guard db.changesCount == 1 else {
                    throw RegistryError(.notFound, "Experiment \(id) has no tag '\(key)'.")
                }
            }
            try db.execute(
                sql: "UPDATE experiment SET updatedAt = ? WHERE id = ?",
                arguments: [Clock.unixSeconds(), id]
            )
        }
    }

    // MARK: - Synchronous helpers

    /// Experiment names: 1–500 printable characters.
    static func validateExperimentName(_ name: String) throws {
        guard (1...500).contains(name.unicodeScalars.count), !name.unicodeScalars.contains(where: { $0.value < 0x20 })
        else {
            throw RegistryError(
                .invalidInput,
                "Experiment name '\(Names.printable(name))' is not valid: use 1 to 500 printable characters."
            )
        }
    }

    /// Refuses an experiment that does not exist (or, with `live`, is deleted).
    static func requireExperiment(_ id: Int64, live: Bool, in db: any StoreSQL) throws -> Experiment {
        guard let experiment = try experiments(where: "id = ?", [id], in: db).first else {
            throw RegistryError(.notFound, "There is no experiment \(id).")
        }
        if live, experiment.deletedAt != nil {
            throw RegistryError(.conflict, "Experiment \(id) ('\(experiment.name)') is deleted; restore it first.")
        }
        return experiment
    }

    static func experiments(
        where condition: String,
        _ arguments: StoreArguments,
        in db: any StoreSQL
    ) throws
        -> [Experiment]
    {
        let rows = try db.fetchAll(
            StoreRow.self,
            sql: "SELECT * FROM experiment WHERE \(condition) ORDER BY id",
            arguments: arguments
        )
        return try rows.map { row in
            let id: Int64 = row["id"]
            let tags = try db.fetchAll(
                StoreRow.self,
                sql: "SELECT key, value FROM experimentTag WHERE experimentId = ?",
                arguments: [id]
            )
            return Experiment(
                id: id,
                name: row["name"],
                tags: Dictionary(uniqueKeysWithValues: tags.map { ($0["key"], $0["value"]) }),
                createdAt: row["createdAt"],
                updatedAt: row["updatedAt"],
                deletedAt: row["deletedAt"]
            )
        }
    }
}

extension Registry {
    /// The id of the run imported from MLflow with run id `externalId`.
    public func runId(external externalId: String) async throws -> Int64 {
        try await read { db in
            guard
                let id = try db.fetchOne(
                    Int64.self,
                    sql: "SELECT id FROM run WHERE externalId = ?",
                    arguments: [externalId]
                )
            else { throw RegistryError(.notFound, "There is no run '\(Names.printable(externalId))'.") }
            return id
        }
    }
}
