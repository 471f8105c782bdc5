-- Runs (training, evaluation, comparison) with typed params, tags, metric series and the
-- fusion-weight history. A run that is 'running' records the process that owns it (pid + boot
-- id) so a run whose process died can be detected and marked failed.
CREATE TABLE run (
    id INTEGER PRIMARY KEY,
    modelId INTEGER REFERENCES model(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('training', 'evaluation', 'comparison')),
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    startedAt REAL NOT NULL,
    endedAt REAL,
    ownerPid INTEGER,
    ownerBootId TEXT,
    failure TEXT,
    CHECK ((status = 'running') = (endedAt IS NULL))
) STRICT;
CREATE INDEX run_model ON run(modelId, id);
CREATE INDEX run_status ON run(status) WHERE status = 'running';
CREATE INDEX run_started ON run(startedAt);

-- A param is stored as text and, when it is a number, also as a real, so comparisons are typed.
CREATE TABLE runParam (
    runId INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    number REAL,
    PRIMARY KEY (runId, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX runParam_text ON runParam(key, value);
CREATE INDEX runParam_number ON runParam(key, number) WHERE number IS NOT NULL;

CREATE TABLE runTag (
    runId INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (runId, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX runTag_value ON runTag(key, value);

-- Metric keys are interned so a metric value row holds small integers only.
CREATE TABLE metricKey (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 250)
) STRICT;

-- One row per (run, key, step): about 25-35 bytes a value. `time` is Unix milliseconds.
CREATE TABLE metric (
    runId INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    keyId INTEGER NOT NULL REFERENCES metricKey(id),
    step INTEGER NOT NULL CHECK (step >= 0),
    value REAL NOT NULL,
    time INTEGER NOT NULL,
    PRIMARY KEY (runId, keyId, step)
) STRICT, WITHOUT ROWID;

-- The value at the highest step of each (run, key), kept by the store on every insert, so
-- `metrics.x > 0.9` over a million runs is one indexed range scan.
CREATE TABLE latestMetric (
    runId INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    keyId INTEGER NOT NULL REFERENCES metricKey(id),
    step INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (runId, keyId)
) STRICT, WITHOUT ROWID;
CREATE INDEX latestMetric_value ON latestMetric(keyId, value);

-- Fusion weights per epoch: one row per modality (classIndex NULL) or per modality and class.
CREATE TABLE fusionWeight (
    runId INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL CHECK (epoch >= 0),
    modality TEXT NOT NULL,
    classIndex INTEGER CHECK (classIndex IS NULL OR classIndex >= 0),
    weight REAL NOT NULL
) STRICT;
CREATE INDEX fusionWeight_run ON fusionWeight(runId, epoch);
