-- MLflow's concepts that Fusebox had no word for: experiments (which group runs), a run's name,
-- the id a run had in the MLflow store it was imported from (its run_uuid), and artifacts (files logged to a
-- run, stored content-addressed in the tensor blobs like every other byte).

-- Experiment 0 is MLflow's "Default", where runs created without an experiment land (every run
-- that existed before this migration too). Experiments are deleted softly and can be restored.
CREATE TABLE experiment (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 500),
    deletedAt REAL,
    createdAt REAL NOT NULL,
    updatedAt REAL NOT NULL
) STRICT;
INSERT INTO experiment (id, name, createdAt, updatedAt)
VALUES (0, 'Default', (julianday('now') - 2440587.5) * 86400.0, (julianday('now') - 2440587.5) * 86400.0);
CREATE TRIGGER experiment_no_delete BEFORE DELETE ON experiment
BEGIN SELECT RAISE(ABORT, 'experiments are never removed; they are marked deleted'); END;

CREATE TABLE experimentTag (
    experimentId INTEGER NOT NULL REFERENCES experiment(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (experimentId, key)
) STRICT, WITHOUT ROWID;

-- SQLite cannot add a column with both REFERENCES and a non-NULL default; experiments are never
-- removed (trigger above), and the registry checks the id on every write.
ALTER TABLE run ADD COLUMN experimentId INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run ADD COLUMN name TEXT;
ALTER TABLE run ADD COLUMN externalId TEXT;
CREATE INDEX run_experiment ON run(experimentId, id);
CREATE UNIQUE INDEX run_external ON run(externalId) WHERE externalId IS NOT NULL;

-- A run's digest now covers its experiment and its name.
DROP VIEW runDigest;
CREATE VIEW runDigest AS
SELECT r.id, fusebox_digest(r.kind, r.status, r.startedAt, r.endedAt, r.failure, r.modelId, r.versionId, r.principal,
    (SELECT json_group_array(json_array(key, value)) FROM (SELECT key, value FROM runParam WHERE runId = r.id ORDER BY key)),
    (SELECT json_group_array(json_array(key, value)) FROM (SELECT key, value FROM runTag WHERE runId = r.id ORDER BY key)),
    (SELECT json_group_array(json_array(name, step, printf('%!.17g', value), time)) FROM (
        SELECT k.name, m.step, m.value, m.time FROM metric m JOIN metricKey k ON k.id = m.keyId WHERE m.runId = r.id
        ORDER BY k.name, m.step)),
    (SELECT json_group_array(json_array(epoch, modality, classIndex, printf('%!.17g', weight))) FROM (
        SELECT epoch, modality, classIndex, weight FROM fusionWeight WHERE runId = r.id ORDER BY epoch, rowid)),
    r.experimentId, r.name
) AS digest
FROM run r;
UPDATE run SET digest = (SELECT digest FROM runDigest d WHERE d.id = run.id) WHERE status != 'running';

-- Artifacts: a path (`<experiment>/<run>/artifacts/<relative path>`) names one blob. Writing a
-- path again points it at the new bytes; the old blob goes at the next `fusebox gc`.
CREATE TABLE artifact (
    path TEXT PRIMARY KEY CHECK (length(path) BETWEEN 1 AND 4096),
    blobId INTEGER NOT NULL REFERENCES tensorBlob(id),
    createdAt REAL NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX artifact_blob ON artifact(blobId);

-- Where an MLflow model version came from (`runs:/…` or `mlflow-artifacts:/…`), its free text,
-- and, for a version imported from an MLflow store, which one it was (so importing twice adds nothing).
ALTER TABLE modelVersion ADD COLUMN source TEXT;
ALTER TABLE modelVersion ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE modelVersion ADD COLUMN externalId TEXT;
CREATE UNIQUE INDEX modelVersion_external ON modelVersion(externalId) WHERE externalId IS NOT NULL;

-- Registered-model tags, and soft deletion of a model (its versions are tombstoned first; the
-- name comes back to life, numbering on, when a model of that name is created again).
CREATE TABLE modelTag (
    modelId INTEGER NOT NULL REFERENCES model(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (modelId, key)
) STRICT, WITHOUT ROWID;
ALTER TABLE model ADD COLUMN deletedAt REAL;
