import FusionCore
import TensorCore
import Testing

/// The code of FusionCore's DocC landing page and of the article *Choosing a fusion method*
/// (`Sources/FusionCore/FusionCore.docc/`), compiled and run: a change of API that breaks them
/// fails here.
struct DocumentationExampleTests {
    @Test func theLandingPageExampleTrainsAndPredicts() throws {
        let (train, test) = try SyntheticData.imageText(samples: 5_000, seed: 42)
        let spec = FusionSpec.standard(for: train, method: .weightedAverage)
        let result = try Trainer.train(spec: spec, data: train, configuration: .converging(for: spec))
        let probabilities = try result.model.predictProbabilities(test)
        let weights = result.model.fusionWeights().perModality

        #expect(probabilities.rows == test.count)
        #expect(probabilities.rowSums().allSatisfy { abs($0 - 1) < 1e-4 })
        #expect(weights.map(\.modality) == ["image", "text"])
        #expect(abs(weights.map(\.weight).reduce(0, +) - 1) < 1e-5)
    }

    @Test func theAutoExampleChoosesAnApplicableMethod() throws {
        let (train, _) = try SyntheticData.imageText(samples: 300, seed: 42)
        let selection = try ModelSelection.crossValidate(
            ModelSelection.applicableMethods(for: train) { FusionSpec.standard(for: train, method: $0) },
            on: train,
            spec: { FusionSpec.standard(for: train, method: $0) },
            configuration: { TrainingConfiguration.converging(for: $0) }
        )

        #expect(selection.candidates.first?.method != nil)
        #expect(selection.candidates.map(\.method).contains(selection.winner))
        #expect(selection.candidates.allSatisfy { $0.meanLogLoss.isFinite })
    }
}
