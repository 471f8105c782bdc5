/// A table of the registry's schema as every backend holds it: its name, its columns and the
/// columns that identify a row.
///
/// Both backends have the same tables and columns (PostgreSQL folds the unquoted names to lower
/// case), so a row read from one can be written to the other. `tensorBlob` and `tensorChunk` are
/// not listed: blobs move as verified byte streams (``BackendSnapshot/streamBlob(_:_:)``), since
/// where their bytes live differs per backend.
public struct StoreTable: Sendable, Hashable {
    /// The table's name.
    public let name: String
    /// Every column, in the order rows are read and written.
    public let columns: [String]
    /// The columns of the primary key (SQLite's implicit `rowid` for `fusionWeight`).
    public let key: [String]

    init(_ name: String, key: [String], _ columns: [String]) {
        self.name = name
        self.key = key
        self.columns = key + columns
    }

    /// The registry's tables, parents before children.
    ///
    /// Invariant (tested): the set of tables and of their columns equals the SQLite schema's and
    /// the PostgreSQL schema's, less the blob tables and the migrations' own bookkeeping.
    public static let all: [StoreTable] = [
        StoreTable(
            "model",
            key: ["id"],
            ["name", "kind", "description", "createdAt", "lastVersionNumber", "deletedAt"]
        ),
        StoreTable("modelTag", key: ["modelId", "key"], ["value"]),
        StoreTable("experiment", key: ["id"], ["name", "deletedAt", "createdAt", "updatedAt"]),
        StoreTable("experimentTag", key: ["experimentId", "key"], ["value"]),
        StoreTable("metricKey", key: ["id"], ["name"]),
        StoreTable(
            "run",
            key: ["id"],
            [
                "modelId", "kind", "status", "startedAt", "endedAt", "ownerPid", "ownerBootId", "failure",
                "versionId", "principal", "ownerHost", "heartbeatAt", "deletedAt", "digest", "experimentId", "name",
                "externalId",
            ]
        ),
        StoreTable("runParam", key: ["runId", "key"], ["value", "number"]),
        StoreTable("runTag", key: ["runId", "key"], ["value"]),
        StoreTable(
            "metricChunk",
            key: ["runId", "keyId", "firstStep"],
            ["minValue", "maxValue", "points"]
        ),
        StoreTable("latestMetric", key: ["runId", "keyId"], ["step", "value"]),
        StoreTable("fusionWeight", key: ["rowid"], ["runId", "epoch", "modality", "classIndex", "weight"]),
        StoreTable(
            "modelVersion",
            key: ["id"],
            [
                "modelId", "number", "spec", "safetensorsHeader", "trainingRunId", "createdAt", "specDigest",
                "headerDigest", "layoutDigest", "recordDigest", "principal", "deletedAt", "deletedBy", "deleteReason",
                "source", "description", "externalId",
            ]
        ),
        StoreTable("modelVersionTag", key: ["versionId", "key"], ["value"]),
        StoreTable("modelVersionDataset", key: ["versionId", "role"], ["fingerprint"]),
        StoreTable("modelVersionComponent", key: ["versionId", "modality"], ["componentVersionId"]),
        StoreTable("versionTensor", key: ["versionId", "position"], ["name", "dtype", "shape", "blobId"]),
        StoreTable(
            "evaluation",
            key: ["id"],
            [
                "runId", "versionId", "datasetFingerprint", "modalities", "sampleCount", "metrics", "labels",
                "predictedClasses", "trueClassProbabilities", "createdAt", "digest",
            ]
        ),
        StoreTable(
            "comparison",
            key: ["id"],
            [
                "runId", "evaluationA", "evaluationB", "datasetFingerprint", "statistics", "verdict", "createdAt",
                "digest",
            ]
        ),
        StoreTable("alias", key: ["modelId", "name"], ["versionId", "updatedAt"]),
        StoreTable(
            "aliasEvent",
            key: ["id"],
            [
                "modelId", "alias", "action", "fromVersionId", "toVersionId", "reason", "comparisonId", "forced",
                "createdAt", "principal",
            ]
        ),
        StoreTable(
            "token",
            key: ["id"],
            ["name", "scope", "sha256", "createdAt", "createdBy", "revokedAt", "revokedBy"]
        ),
        StoreTable("artifact", key: ["path"], ["blobId", "createdAt"]),
    ]
}

/// One value of a stored row, as both backends hold it: SQLite's storage classes, which the
/// PostgreSQL schema maps to `bigint`, `double precision`, `text` and `bytea`.
public enum StoreValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// A 64-bit integer.
    case integer(Int64)
    /// A 64-bit float, compared bit for bit.
    case real(Double)
    /// UTF-8 text.
    case text(String)
    /// Bytes.
    case bytes([UInt8])

    /// Equal when both are the same case with the same bits (so `NaN` equals itself and `-0.0`
    /// differs from `0.0`: a copy keeps every bit).
    public static func == (lhs: StoreValue, rhs: StoreValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.integer(let a), .integer(let b)): a == b
        case (.real(let a), .real(let b)): a.bitPattern == b.bitPattern
        case (.text(let a), .text(let b)): a == b
        case (.bytes(let a), .bytes(let b)): a == b
        default: false
        }
    }

    /// Hashes the case and its bits, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .integer(let value): hasher.combine(value)
        case .real(let value): hasher.combine(value.bitPattern)
        case .text(let value): hasher.combine(value)
        case .bytes(let value): hasher.combine(value)
        }
    }
}

/// A blob as a backend records it: the content address and length of its bytes.
public struct BlobRecord: Sendable, Hashable {
    /// The blob's id, which rows (`versionTensor.blobId`, `artifact.blobId`) refer to.
    public let id: Int64
    /// The SHA-256 of its bytes, in lower-case hex.
    public let sha256: String
    /// Its length in bytes.
    public let byteCount: Int

    /// Creates a record.
    public init(id: Int64, sha256: String, byteCount: Int) {
        self.id = id
        self.sha256 = sha256
        self.byteCount = byteCount
    }
}
