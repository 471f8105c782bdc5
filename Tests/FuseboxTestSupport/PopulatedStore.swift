import Foundation
import FusionCore
import RegistryStore
import TensorCore
import TensorIO

/// Fills `registry` with a row in every table the registry has: a trained fused model (its
/// run's params, metrics and fusion weights), a component with a tensor above the object
/// threshold (an object file) and one below (database chunks), aliases moved twice, a deleted
/// version, an evaluation, an experiment with a tag, a named run with tags, a model tag, an
/// artifact, and a token created and one revoked. Files it needs are written in `dir`.
public func populate(_ registry: Registry, in dir: TemporaryDirectory) async throws {
    let data = try smallDataset(rows: 120)
    let spec = FusionSpec.standard(for: data, method: .weightedAverage)
    var configuration = TrainingConfiguration.converging(for: spec)
    configuration.epochs = 5
    let trained = try await registry.trainAndRegister(
        model: "sentiment",
        spec: spec,
        data: data,
        configuration: configuration
    )
    try await registry.registerVersion(model: "sentiment", classifier: smallClassifier(weights: [0.9, 0.1]))
    try await registry.setAlias("production", model: "sentiment", version: trained.version)
    try await registry.setAlias("production", model: "sentiment", version: trained.version + 1)
    try await registry.setModelTag("sentiment", key: "team", value: "vision")

    let component = dir.file("cnn.safetensors")
    try writeComponentFile(component, floats: 1_200_000, seed: 7)
    try await registry.registerComponent(model: "cnn", safetensorsPath: component, tags: ["stage": "dev"])
    try await registry.registerComponent(model: "cnn", safetensorsPath: component, description: "the same bytes again")
    try await registry.deleteVersion(VersionReference(parsing: "cnn@2"), reason: "a duplicate")

    let labels = (0..<data.count).map { $0 % 3 }
    try await registry.recordEvaluation(
        of: VersionReference(parsing: "sentiment@1"),
        datasetFingerprint: String(repeating: "ab", count: 32),
        modalities: ["image", "text"],
        metrics: ["accuracy": 0.5],
        predictions: SamplePredictions(
            labels: labels,
            predictedClasses: labels.reversed(),
            trueClassProbabilities: labels.map { Float($0) / 3 },
            classCount: 3
        )
    )

    let experiment = try await registry.createExperiment("tuning", tags: ["owner": "ana"])
    let run = try await registry.startRun(
        kind: .training,
        params: ["lr": 0.01, "optimizer": "adam"],
        tags: ["note": "by hand", "Zeta": "upper case sorts first in bytes", "_x": "and last in English"],
        experiment: experiment,
        name: "first try"
    )
    try await registry.logMetrics(
        run: run,
        (0..<300).map { MetricPoint(key: "loss", step: $0, value: 1 / Double($0 + 1)) }
    )
    try await registry.finishRun(run)

    let notes = dir.file("notes.txt")
    try Data("hello".utf8).write(to: URL(fileURLWithPath: notes))
    try await registry.putArtifact("\(experiment)/\(run)/artifacts/notes.txt", fromFile: notes)
    _ = try await registry.createToken(name: "ci", scope: .write)
    _ = try await registry.createToken(name: "old", scope: .read)
    try await registry.revokeToken(name: "old")
}

/// Writes a component's safetensors file: `conv.weight`, `floats` random floats (seeded), and
/// `conv.bias`, three.
public func writeComponentFile(_ path: String, floats: Int, seed: UInt64) throws {
    var rng = TestRandom(seed: seed)
    let big = Tensor(floats: (0..<floats).map { _ in Float.random(in: -1...1, using: &rng) }, shape: [floats])
    try SafetensorsWriter.write(
        [("conv.weight", big), ("conv.bias", Tensor(floats: [1, 2, 3], shape: [3]))],
        toPath: path
    )
}
