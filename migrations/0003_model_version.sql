-- Immutable model versions, numbered 1, 2, 3… per model with no gap (the store allocates the
-- number inside the writing transaction). Lineage: the training run, the datasets and the
-- component versions a fused version was built from.
CREATE TABLE modelVersion (
    id INTEGER PRIMARY KEY,
    modelId INTEGER NOT NULL REFERENCES model(id) ON DELETE CASCADE,
    number INTEGER NOT NULL CHECK (number >= 1),
    spec TEXT,
    safetensorsHeader BLOB,
    trainingRunId INTEGER REFERENCES run(id) ON DELETE SET NULL,
    createdAt REAL NOT NULL,
    UNIQUE (modelId, number)
) STRICT;
CREATE INDEX modelVersion_run ON modelVersion(trainingRunId);

CREATE TABLE modelVersionTag (
    versionId INTEGER NOT NULL REFERENCES modelVersion(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (versionId, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX modelVersionTag_value ON modelVersionTag(key, value);

CREATE TABLE modelVersionDataset (
    versionId INTEGER NOT NULL REFERENCES modelVersion(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('train', 'validation', 'test')),
    fingerprint TEXT NOT NULL CHECK (length(fingerprint) = 64),
    PRIMARY KEY (versionId, role)
) STRICT, WITHOUT ROWID;

CREATE TABLE modelVersionComponent (
    versionId INTEGER NOT NULL REFERENCES modelVersion(id) ON DELETE CASCADE,
    modality TEXT NOT NULL,
    componentVersionId INTEGER NOT NULL REFERENCES modelVersion(id),
    PRIMARY KEY (versionId, modality)
) STRICT, WITHOUT ROWID;
CREATE INDEX modelVersionComponent_component ON modelVersionComponent(componentVersionId);

-- Which version a run belongs to (evaluations and comparisons point at versions too).
ALTER TABLE run ADD COLUMN versionId INTEGER REFERENCES modelVersion(id) ON DELETE SET NULL;
CREATE INDEX run_version ON run(versionId);
