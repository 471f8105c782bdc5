-- Evaluations of one version on one dataset (by fingerprint), with per-sample predictions kept
-- as packed little-endian arrays: labels and predicted classes as Int32, the probability given
-- to the true class as Float32 (12 bytes a sample).
CREATE TABLE evaluation (
    id INTEGER PRIMARY KEY,
    runId INTEGER NOT NULL UNIQUE REFERENCES run(id) ON DELETE CASCADE,
    versionId INTEGER NOT NULL REFERENCES modelVersion(id) ON DELETE CASCADE,
    datasetFingerprint TEXT NOT NULL CHECK (length(datasetFingerprint) = 64),
    modalities TEXT NOT NULL,
    sampleCount INTEGER NOT NULL CHECK (sampleCount >= 0),
    metrics TEXT NOT NULL,
    labels BLOB NOT NULL,
    predictedClasses BLOB NOT NULL,
    trueClassProbabilities BLOB NOT NULL,
    createdAt REAL NOT NULL,
    CHECK (length(labels) = 4 * sampleCount),
    CHECK (length(predictedClasses) = 4 * sampleCount),
    CHECK (length(trueClassProbabilities) = 4 * sampleCount)
) STRICT;
CREATE INDEX evaluation_lookup ON evaluation(versionId, datasetFingerprint, modalities);

-- An A/B record: two evaluations on the same dataset, paired statistics and a verdict.
CREATE TABLE comparison (
    id INTEGER PRIMARY KEY,
    runId INTEGER NOT NULL UNIQUE REFERENCES run(id) ON DELETE CASCADE,
    evaluationA INTEGER NOT NULL REFERENCES evaluation(id) ON DELETE CASCADE,
    evaluationB INTEGER NOT NULL REFERENCES evaluation(id) ON DELETE CASCADE,
    datasetFingerprint TEXT NOT NULL CHECK (length(datasetFingerprint) = 64),
    statistics TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('a-better', 'b-better', 'no-difference')),
    createdAt REAL NOT NULL
) STRICT;
CREATE INDEX comparison_a ON comparison(evaluationA);
CREATE INDEX comparison_b ON comparison(evaluationB);
