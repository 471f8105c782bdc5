-- Metric series in packed chunks: one row per run of consecutive steps of a (run, key) instead of
-- one row per value (about 29 bytes a value as a B-tree row; about 10 packed). `points` is the
-- packed series (RegistryStore's PackedMetricSeries: per sample, varint step delta, 8-byte value,
-- zigzag-varint time delta); `minValue` and `maxValue` answer `max(metrics.x)` and
-- `min(metrics.x)` without reading the bytes. A rowid table, so a chunk (at most 4,000 bytes)
-- stays inline in one 4 KiB page. `latestMetric` is unchanged.

-- Runs whose digest matches before the conversion: only theirs are resealed below, so the upgrade
-- does not launder damage done before it ('fusebox verify' still names such a run).
CREATE TEMP TABLE intactRun AS
SELECT r.id FROM run r JOIN runDigest d ON d.id = r.id WHERE r.status != 'running' AND r.digest IS d.digest;
DROP VIEW runDigest;

CREATE TABLE metricChunk (
    runId INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    keyId INTEGER NOT NULL REFERENCES metricKey(id),
    firstStep INTEGER NOT NULL CHECK (firstStep >= 0),
    minValue REAL NOT NULL,
    maxValue REAL NOT NULL,
    points BLOB NOT NULL CHECK (length(points) > 0),
    UNIQUE (runId, keyId, firstStep)
) STRICT;

-- 256 values a chunk (about 2.6 KB at 10 bytes a value); new values extend the last chunk up to 4,000 bytes.
INSERT INTO metricChunk (runId, keyId, firstStep, minValue, maxValue, points)
SELECT runId, keyId, min(step), min(value), max(value), fusebox_metric_pack(step, value, time) FROM (
    SELECT runId, keyId, step, value, time,
        (row_number() OVER (PARTITION BY runId, keyId ORDER BY step) - 1) / 256 AS chunk
    FROM metric
) GROUP BY runId, keyId, chunk;
DROP TABLE metric;

-- A run's digest covers its metric series as stored: each chunk's key, first step and bytes.
CREATE VIEW runDigest AS
SELECT r.id, fusebox_digest(r.kind, r.status, r.startedAt, r.endedAt, r.failure, r.modelId, r.versionId, r.principal,
    (SELECT json_group_array(json_array(key, value)) FROM (SELECT key, value FROM runParam WHERE runId = r.id ORDER BY key)),
    (SELECT json_group_array(json_array(key, value)) FROM (SELECT key, value FROM runTag WHERE runId = r.id ORDER BY key)),
    (SELECT json_group_array(json_array(name, firstStep, hex(points))) FROM (
        SELECT k.name, c.firstStep, c.points FROM metricChunk c JOIN metricKey k ON k.id = c.keyId WHERE c.runId = r.id
        ORDER BY k.name, c.firstStep)),
    (SELECT json_group_array(json_array(epoch, modality, classIndex, printf('%!.17g', weight))) FROM (
        SELECT epoch, modality, classIndex, weight FROM fusionWeight WHERE runId = r.id ORDER BY epoch, rowid)),
    r.experimentId, r.name
) AS digest
FROM run r;
UPDATE run SET digest = (SELECT digest FROM runDigest d WHERE d.id = run.id) WHERE id IN (SELECT id FROM temp.intactRun);
DROP TABLE temp.intactRun;
