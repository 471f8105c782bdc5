import Foundation
import FuseboxTestSupport
import FusionCore
import Logging
import TensorCore
import TensorIO
import Testing

@testable import RegistryStore

/// The README's library example and the DocC article *Getting started*
/// (`Sources/RegistryStore/RegistryStore.docc/GettingStarted.md`), compiled and run against a real
/// store file: a change of API that breaks them fails here.
struct ReadmeExampleTests {
    @Test func theLibraryExampleRuns() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("fusebox.sqlite")
        let fixture = try smallDataset(rows: 30)
        try NumPyArray.write(Tensor(fixture.modality("image")!.values), toPath: dir.file("image.npy"))
        try NumPyArray.write(Tensor(fixture.modality("text")!.values), toPath: dir.file("text.npy"))
        do {
            let setup = try Registry.open(atPath: path, logger: quietLogger)
            try await setup.registerVersion(model: "sentiment", classifier: smallClassifier(weights: [0.9, 0.0]))
            try await setup.setAlias("production", model: "sentiment", version: 1)
        }

        // README, "The Swift library":
        let registry = try Registry.open(atPath: path, logger: Logger(label: "app"))
        let data = try DatasetFiles.load(
            .files(
                modalities: [("image", dir.file("image.npy"), .probs), ("text", dir.file("text.npy"), .probs)],
                labels: nil
            ),
            requireLabels: false
        )
        let model = try await registry.loadClassifier(VersionReference(parsing: "sentiment@production"))
        let probabilities = try model.predictProbabilities(data)
        let classes = probabilities.argmaxRows()

        #expect(probabilities.rows == 30 && classes.count == 30)
        #expect(model.fusionWeights().perModality.map(\.modality) == ["image", "text"])
    }

    @Test func theGettingStartedArticleRuns() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("fusebox.sqlite")

        // Getting started, steps 1 to 5 (the synthetic data of step 2):
        let registry = try Registry.open(atPath: path, logger: Logger(label: "app"))
        let (train, test) = try SyntheticData.imageText(samples: 5_000, seed: 42)
        let spec = FusionSpec.standard(for: train, method: .weightedAverage)
        let trained = try await registry.trainAndRegister(
            model: "sentiment",
            spec: spec,
            data: train,
            configuration: .converging(for: spec)
        )
        try await registry.setAlias("production", model: "sentiment", version: trained.version)
        let model = try await registry.loadClassifier(VersionReference(parsing: "sentiment@production"))
        let probabilities = try model.predictProbabilities(test)
        let metrics = ClassificationMetrics(probabilities: probabilities, labels: test.labels)

        #expect(trained.version == 1)
        #expect(trained.weights.perModality.map(\.modality) == ["image", "text"])
        #expect(probabilities.rows == test.count && probabilities.columns == 10)
        #expect(metrics.accuracy > 0.5 && metrics.nll.isFinite)
    }
}
