-- Integrity: a digest of every stored record an output depends on, version numbers that are never
-- given twice, deleted versions kept as tombstones, append-only history, who did what, and run
-- liveness that does not depend on one host's view.
--
-- fusebox_digest(x, ...) is an application function (RecordDigest.swift): the SHA-256, in hex, of
-- its arguments, each typed and length-prefixed. The views below are the one definition of what each
-- digest covers; writers store a view's value in the same transaction, readers and `verify` compare.

-- A per-model counter: a number, once given, is never given again, even after a delete.
ALTER TABLE model ADD COLUMN lastVersionNumber INTEGER NOT NULL DEFAULT 0 CHECK (lastVersionNumber >= 0);
UPDATE model SET lastVersionNumber = (SELECT coalesce(max(number), 0) FROM modelVersion v WHERE v.modelId = model.id);

-- Versions: digests of the spec, of the registered safetensors header, of the tensor layout
-- (names, dtypes, shapes, blob digests, in file order) and of the record around them (number,
-- creation, principal, training run, tags, dataset fingerprints, components); the principal who
-- registered it; and a
-- tombstone (deletedAt, deletedBy, deleteReason) for deleted versions, whose rows stay so their
-- number and history stay meaningful while their tensors are unlinked for `gc`.
ALTER TABLE modelVersion ADD COLUMN specDigest TEXT;
ALTER TABLE modelVersion ADD COLUMN headerDigest TEXT;
ALTER TABLE modelVersion ADD COLUMN layoutDigest TEXT;
ALTER TABLE modelVersion ADD COLUMN recordDigest TEXT;
ALTER TABLE modelVersion ADD COLUMN principal TEXT;
ALTER TABLE modelVersion ADD COLUMN deletedAt REAL;
ALTER TABLE modelVersion ADD COLUMN deletedBy TEXT;
ALTER TABLE modelVersion ADD COLUMN deleteReason TEXT;

CREATE VIEW versionDigest AS
SELECT v.id,
    fusebox_digest(v.spec) AS spec,
    fusebox_digest(v.safetensorsHeader) AS header,
    fusebox_digest((
        SELECT json_group_array(json_array(t.position, t.name, t.dtype, t.shape, b.sha256, b.byteCount))
        FROM (SELECT * FROM versionTensor WHERE versionId = v.id ORDER BY position) t JOIN tensorBlob b ON b.id = t.blobId
    )) AS layout,
    fusebox_digest(v.modelId, v.number, v.createdAt, v.principal, v.trainingRunId,
        (SELECT json_group_array(json_array(key, value)) FROM (SELECT key, value FROM modelVersionTag WHERE versionId = v.id ORDER BY key)),
        (SELECT json_group_array(json_array(role, fingerprint)) FROM (
            SELECT role, fingerprint FROM modelVersionDataset WHERE versionId = v.id ORDER BY role)),
        (SELECT json_group_array(json_array(modality, componentVersionId)) FROM (
            SELECT modality, componentVersionId FROM modelVersionComponent WHERE versionId = v.id ORDER BY modality))
    ) AS record
FROM modelVersion v;

UPDATE modelVersion SET
    specDigest = (SELECT spec FROM versionDigest d WHERE d.id = modelVersion.id),
    headerDigest = (SELECT header FROM versionDigest d WHERE d.id = modelVersion.id),
    layoutDigest = (SELECT layout FROM versionDigest d WHERE d.id = modelVersion.id),
    recordDigest = (SELECT record FROM versionDigest d WHERE d.id = modelVersion.id);

-- Versions are never removed (a delete is a tombstone), and a tombstone is never lifted.
CREATE TRIGGER modelVersion_no_delete BEFORE DELETE ON modelVersion
BEGIN SELECT RAISE(ABORT, 'model versions are never removed; fusebox delete marks them deleted'); END;
CREATE TRIGGER modelVersion_tombstone_final BEFORE UPDATE OF deletedAt ON modelVersion WHEN OLD.deletedAt IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a deleted version stays deleted'); END;

-- Evaluations and comparisons: one digest of every column an output reads.
ALTER TABLE evaluation ADD COLUMN digest TEXT;
CREATE VIEW evaluationDigest AS
SELECT id, fusebox_digest(runId, versionId, datasetFingerprint, modalities, sampleCount, metrics, labels, predictedClasses,
    trueClassProbabilities) AS digest
FROM evaluation;
UPDATE evaluation SET digest = (SELECT digest FROM evaluationDigest d WHERE d.id = evaluation.id);

ALTER TABLE comparison ADD COLUMN digest TEXT;
CREATE VIEW comparisonDigest AS
SELECT id, fusebox_digest(runId, evaluationA, evaluationB, datasetFingerprint, statistics, verdict) AS digest
FROM comparison;
UPDATE comparison SET digest = (SELECT digest FROM comparisonDigest d WHERE d.id = comparison.id);

-- Runs: who started them, the host that owns a running one, its last sign of life, a soft
-- delete (`fusebox runs delete`; `gc` purges), and, once a run has ended, a digest of what it
-- recorded (reals printed with 17 significant digits, so every bit of them counts).
ALTER TABLE run ADD COLUMN principal TEXT;
ALTER TABLE run ADD COLUMN ownerHost TEXT;
ALTER TABLE run ADD COLUMN heartbeatAt REAL;
ALTER TABLE run ADD COLUMN deletedAt REAL;
ALTER TABLE run ADD COLUMN digest TEXT;
CREATE INDEX run_deleted ON run(deletedAt) WHERE deletedAt IS NOT NULL;

CREATE VIEW runDigest AS
SELECT r.id, fusebox_digest(r.kind, r.status, r.startedAt, r.endedAt, r.failure, r.modelId, r.versionId, r.principal,
    (SELECT json_group_array(json_array(key, value)) FROM (SELECT key, value FROM runParam WHERE runId = r.id ORDER BY key)),
    (SELECT json_group_array(json_array(key, value)) FROM (SELECT key, value FROM runTag WHERE runId = r.id ORDER BY key)),
    (SELECT json_group_array(json_array(name, step, printf('%!.17g', value), time)) FROM (
        SELECT k.name, m.step, m.value, m.time FROM metric m JOIN metricKey k ON k.id = m.keyId WHERE m.runId = r.id
        ORDER BY k.name, m.step)),
    (SELECT json_group_array(json_array(epoch, modality, classIndex, printf('%!.17g', weight))) FROM (
        SELECT epoch, modality, classIndex, weight FROM fusionWeight WHERE runId = r.id ORDER BY epoch, rowid))
) AS digest
FROM run r;
UPDATE run SET digest = (SELECT digest FROM runDigest d WHERE d.id = run.id) WHERE status != 'running';

-- Alias history: who moved it; rows can be neither changed (0006) nor removed.
ALTER TABLE aliasEvent ADD COLUMN principal TEXT;
CREATE TRIGGER aliasEvent_no_delete BEFORE DELETE ON aliasEvent
BEGIN SELECT RAISE(ABORT, 'alias events are append-only'); END;
