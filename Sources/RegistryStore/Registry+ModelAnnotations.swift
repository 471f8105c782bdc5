import GRDB

/// What can change about a model and its versions after they are created: names, descriptions,
/// tags, and the model's deletion. A version's tags are covered by its record digest, which each
/// change here seals again; its tensors never change.
extension Registry {
    /// Renames a model; its versions, aliases and history follow (they refer to it by id).
    public func renameModel(_ name: String, to newName: String) async throws {
        try Names.validate(name, as: "Model name")
        try Names.validate(newName, as: "Model name")
        try await write { db in
            let id = try Self.requireModel(name, in: db).id
            if try Self.modelRow(newName, in: db) != nil {
                throw RegistryError(.alreadyExists, "A model named '\(newName)' already exists.")
            }
            try db.execute(sql: "UPDATE model SET name = ? WHERE id = ?", arguments: [newName, id])
        }
    }

    /// Replaces a model's description.
    public func describeModel(_ name: String, as description: String) async throws {
        try Names.validateValue(description, as: "Description")
        try await write { db in
            let id = try Self.requireModel(name, in: db).id
            try db.execute(sql: "UPDATE model SET description = ? WHERE id = ?", arguments: [description, id])
        }
    }

    /// Sets (`value` non-nil) or removes a model's tag.
    public func setModelTag(_ name: String, key: String, value: String?) async throws {
        try Names.validateKey(key, as: "Tag")
        if let value { try Names.validateValue(value, as: "Tag") }
        try await write { db in
            let id = try Self.requireModel(name, in: db).id
            if let value {
                try db.execute(
                    sql: """
                        INSERT INTO modelTag (modelId, key, value) VALUES (?, ?, ?)
                        ON CONFLICT (modelId, key) DO UPDATE SET value = excluded.value
                        """,
                    arguments: [id, key, value]
                )
            } else {
                try db.execute(sql: "DELETE FROM modelTag WHERE modelId = ? AND key = ?", arguments: [id, key])
                guard db.changesCount == 1 else {
                    throw RegistryError(.notFound, "Model '\(name)' has no tag '\(key)'.")
                }
            }
        }
    }

    /// Deletes a model: every live version becomes a tombstone (its aliases removed, each removal in
    /// the alias history), then the model is marked deleted, all in one transaction. Creating a
    /// model of that name again brings it back, its numbering continuing.
    public func deleteModel(_ name: String, reason: String = "") async throws {
        try Names.validate(name, as: "Model name")
        try Names.validateValue(reason, as: "Reason")
        try await write { db in
            let id = try Self.requireModel(name, in: db).id
            for version in try db.fetchAll(
                Int64.self,
                sql: "SELECT id FROM modelVersion WHERE modelId = ? AND deletedAt IS NULL ORDER BY number",
                arguments: [id]
            ) {
                _ = try Self.tombstoneVersion(
                    version,
                    force: true,
                    reason: reason.isEmpty ? "model deleted" : reason,
                    principal: principal,
                    in: db
                )
            }
            try db.execute(
                sql: "UPDATE model SET deletedAt = ? WHERE id = ? AND deletedAt IS NULL",
                arguments: [Clock.unixSeconds(), id]
            )
        }
    }

    /// Sets (`value` non-nil) or removes a version's tag; the version's record digest is sealed again.
    public func setVersionTag(_ reference: VersionReference, key: String, value: String?) async throws {
        try Names.validateKey(key, as: "Tag")
        if let value { try Names.validateValue(value, as: "Tag") }
        try await write { db in
            let id = try Self.resolve(reference, in: db)
            try Self.checkVersion(id, label: reference.description, in: db)
            if let value {
                try db.execute(
                    sql: """
                        INSERT INTO modelVersionTag (versionId, key, value) VALUES (?, ?, ?)
                        ON CONFLICT (versionId, key) DO UPDATE SET value = excluded.value
                        """,
                    arguments: [id, key, value]
                )
            } else {
                try db.execute(
                    sql: "DELETE FROM modelVersionTag WHERE versionId = ? AND key = ?",
                    arguments: [id, key]
                )
                guard db.changesCount == 1 else {
                    throw RegistryError(.notFound, "\(reference) has no tag '\(key)'.")
                }
            }
            try Self.sealVersion(id, in: db)
        }
    }

    /// Replaces a version's description.
    public func describeVersion(_ reference: VersionReference, as description: String) async throws {
        try Names.validateValue(description, as: "Description")
        try await write { db in
            let id = try Self.resolve(reference, in: db)
            try db.execute(sql: "UPDATE modelVersion SET description = ? WHERE id = ?", arguments: [description, id])
        }
    }
}
