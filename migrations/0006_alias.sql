-- Movable names on a model's versions, and the append-only history of every move.
CREATE TABLE alias (
    modelId INTEGER NOT NULL REFERENCES model(id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    versionId INTEGER NOT NULL REFERENCES modelVersion(id),
    updatedAt REAL NOT NULL,
    PRIMARY KEY (modelId, name)
) STRICT, WITHOUT ROWID;
CREATE INDEX alias_version ON alias(versionId);

CREATE TABLE aliasEvent (
    id INTEGER PRIMARY KEY,
    modelId INTEGER NOT NULL REFERENCES model(id) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('set', 'move', 'delete', 'rollback')),
    fromVersionId INTEGER REFERENCES modelVersion(id),
    toVersionId INTEGER REFERENCES modelVersion(id),
    reason TEXT NOT NULL DEFAULT '',
    comparisonId INTEGER REFERENCES comparison(id) ON DELETE SET NULL,
    forced INTEGER NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
    createdAt REAL NOT NULL
) STRICT;
CREATE INDEX aliasEvent_alias ON aliasEvent(modelId, alias, id);

-- Append-only: history rows can be neither changed nor removed (except with their model).
CREATE TRIGGER aliasEvent_no_update BEFORE UPDATE ON aliasEvent
BEGIN SELECT RAISE(ABORT, 'alias events are append-only'); END;
