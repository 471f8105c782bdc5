import FuseboxTestSupport
import RealModule
import Testing

@testable import FusionCore
@testable import TensorCore

/// Greedy ensemble selection: the picks by hand, the fit on held-out data, and what it learns.
struct EnsembleSelectionTests {
    /// Two modalities each right (0.99) on one half of the samples and wrong (0.01) on the other.
    static func complementaryHalves() throws -> Dataset {
        let a = Matrix([[0.99, 0.01], [0.99, 0.01], [0.01, 0.99], [0.01, 0.99]])
        let b = Matrix([[0.01, 0.99], [0.01, 0.99], [0.99, 0.01], [0.99, 0.01]])
        return try Dataset(
            modalities: [
                ModalityInput(name: "a", kind: .probs, values: a), ModalityInput(name: "b", kind: .probs, values: b),
            ],
            targets: .classes([0, 0, 0, 0]),
            classCount: 2
        )
    }

    @Test func picksAlternateWhenTwoModalitiesAreRightOnComplementaryHalves() throws {
        // Round 1: a and b tie at −(log .99 + log .01)/2; the first wins. Round 2: adding b gives
        // 0.5 everywhere (log 2 = 0.69) against 2.31 for a again. Round 3: a or b tie at 0.75, a
        // wins; and so on: a on odd rounds, b on even ones — 13 and 12 of 25.
        let data = try Self.complementaryHalves()
        let spec = FusionSpec.standard(for: data, method: .ensembleSelection)
        var parameters = spec.initialParameters(seed: 0)
        spec.fusionOperator.fit(
            branchOutputs: data.modalities.map(\.values),
            labels: data.labels,
            parameters: &parameters
        )
        #expect(parameters["fusion.weights"]!.values == [13 / 25, 12 / 25])
    }

    @Test func anUnreliableModalityIsNeverPicked() throws {
        // b is always wrong: every round adds a.
        let a = Matrix([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
        let b = Matrix([[0.1, 0.9], [0.9, 0.1], [0.2, 0.8]])
        let data = try Dataset(
            modalities: [
                ModalityInput(name: "a", kind: .probs, values: a), ModalityInput(name: "b", kind: .probs, values: b),
            ],
            targets: .classes([0, 1, 0]),
            classCount: 2
        )
        let result = try Trainer.train(
            spec: FusionSpec.standard(for: data, method: .ensembleSelection),
            data: data,
            configuration: .init()
        )
        #expect(result.model.parameters["fusion.weights"]!.values == [1, 0])
        // Nothing around it learns, so there are no gradient epochs: one report, the fit.
        #expect(result.epochs.count == 1)
        #expect(result.epochs[0].weights.perModality.map(\.weight) == [1, 0])
        // Predictions are a's own, and without a, b's (the renormalisation falls back to the present ones).
        let p = try result.model.predictProbabilities(data)
        #expect(p.values == a.values)
        #expect(try result.model.predictProbabilities(data.selecting(modalities: ["b"])).values == b.values)
    }

    @Test func fitsOnTheValidationSplitAndFavoursTheReliableModality() throws {
        let (train, test) = try SyntheticData.imageText(samples: 4000)
        var configuration = TrainingConfiguration()
        configuration.validationSplit = 0.25
        let spec = FusionSpec.standard(for: train, method: .ensembleSelection)
        let result = try Trainer.train(spec: spec, data: train, configuration: configuration)
        let weights = result.model.fusionWeights().perModality.map(\.weight)
        #expect(weights[0] > 0.5 && weights[0] < 1, "image weight \(weights[0])")
        #expect(abs(weights.reduce(0, +) - 1) < 1e-6)
        for w in weights {
            #expect((w * Float(EnsembleSelectionFusion.rounds)).rounded() == w * Float(EnsembleSelectionFusion.rounds))
        }

        // The selection is made on the validation rows: refitting on them by hand gives the same weights.
        let validation = try #require(result.validation)
        var parameters = result.model.parameters
        spec.fusionOperator.fit(
            branchOutputs: validation.modalities.map(\.values),
            labels: validation.labels,
            parameters: &parameters
        )
        #expect(parameters["fusion.weights"] == result.model.parameters["fusion.weights"])

        // Held-out log-loss: no worse than the plain mean or either modality alone.
        func logLoss(_ p: Matrix) -> Double {
            -test.labels.indices.reduce(0.0) { $0 + Double.log(Double(max(p[$1, test.labels[$1]], 1e-15))) }
                / Double(test.count)
        }
        let selected = logLoss(try result.model.predictProbabilities(test))
        let mean = logLoss(
            try FusedClassifier(spec: FusionSpec.standard(for: train, method: .mean), parameters: [:])
                .predictProbabilities(test)
        )
        #expect(selected <= mean, "ensemble \(selected), mean \(mean)")
        for modality in test.modalities { #expect(selected <= logLoss(modality.values), "\(modality.name)") }
    }

    @Test func temperaturesAroundItAreTrainedFirstThenTheSelectionIsFitted() throws {
        let (train, _) = try SyntheticData.imageText(samples: 1000)
        var configuration = TrainingConfiguration()
        configuration.epochs = 3
        configuration.validationSplit = 0.2
        let spec = FusionSpec.standard(for: train, method: .ensembleSelection, temperature: true)
        let result = try Trainer.train(spec: spec, data: train, configuration: configuration)
        #expect(result.epochs.count == 4)  // three gradient epochs for the temperatures, then the fit
        #expect(result.model.parameters["branch.image.log_temperature"]![0, 0] != 0)
        #expect(
            result.epochs.last!.weights.perModality.map(\.weight)
                == result.model.fusionWeights().perModality.map(\.weight)
        )
    }
}
