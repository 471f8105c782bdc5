import FusionCore
import GRDB
import Logging
import RegistryPostgres
import RegistryStore
import TensorCore

/// A logger that drops everything (tests assert on results, not logs).
public let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// A registry on a fresh in-memory database.
public func memoryRegistry() throws -> Registry { try Registry(DatabaseQueue(), logger: quietLogger) }

/// A small trained weighted-average classifier over two probability modalities.
public func smallClassifier(weights: [Float] = [0.2, 0.7], classes: Int = 3) throws -> FusedClassifier {
    let spec = FusionSpec(
        classCount: classes,
        modalities: [
            ModalitySpec(name: "image", kind: .probs, width: classes, layers: []),
            ModalitySpec(name: "text", kind: .probs, width: classes, layers: []),
        ],
        method: .weightedAverage
    )
    return try FusedClassifier(spec: spec, parameters: ["fusion.weights": Matrix(rows: 1, columns: 2, values: weights)])
}

/// A dataset of `rows` random probability rows for image and text, labels cycling.
public func smallDataset(rows: Int = 40, classes: Int = 3, seed: UInt64 = 1) throws -> Dataset {
    var rng = TestRandom(seed: seed)
    func probs() -> Matrix {
        Matrix(
            rows: rows,
            columns: classes,
            values: (0..<rows * classes).map { _ in Float.random(in: -2...2, using: &rng) }
        ).softmaxRows()
    }
    return try Dataset(
        modalities: [
            ModalityInput(name: "image", kind: .probs, values: probs()),
            ModalityInput(name: "text", kind: .probs, values: probs()),
        ],
        targets: .classes((0..<rows).map { $0 % classes }),
        classCount: classes
    )
}

extension TestStore {
    /// Runs `body` on a fresh registry of this kind: in memory (SQLite), or on a new database
    /// (PostgreSQL, ``withStore(in:_:)``), dropped afterwards.
    public func withRegistry(_ body: (Registry) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            try await body(memoryRegistry())
        case .postgres:
            try await withStore(in: TemporaryDirectory()) { url in
                try await body(Registry.open(url: url, logger: quietLogger))
            }
        }
    }
}
