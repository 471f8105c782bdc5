import FuseboxTestSupport
import RealModule
import Testing

@testable import FusionCore
@testable import TensorCore

/// The original Keras question and answer, reproduced, and the quality bars of the anchor data
/// (Tests/Fixtures/keras/README.md gives Keras's figures and their source).
struct KerasReferenceTests {
    var configuration: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = 10
        c.batchSize = 256
        c.learningRate = 1e-3
        return c
    }

    func accuracy(_ model: FusedClassifier, _ data: Dataset) throws -> Double {
        let predicted = try model.predictClasses(data)
        return Double(zip(predicted, data.labels).filter { $0 == $1 }.count) / Double(data.count)
    }

    @Test func answersRegressionExampleLossFallsAsInKeras() throws {
        // Two Input((100,)) → Dense(32, relu) branches, softmax-weighted average, Dense(1), MSE,
        // Adam, 10 epochs, batch 32, 1,000 uniform random samples. Keras: about 0.23 → 0.085.
        var rng = SeededRandom(seed: 0)
        let n = 1000
        func uniform(_ count: Int) -> [Float] { (0..<count).map { _ in rng.unitFloat() } }
        let data = try Dataset(
            modalities: [
                ModalityInput(
                    name: "x1",
                    kind: .features,
                    values: Matrix(rows: n, columns: 100, values: uniform(n * 100))
                ),
                ModalityInput(
                    name: "x2",
                    kind: .features,
                    values: Matrix(rows: n, columns: 100, values: uniform(n * 100))
                ),
            ],
            targets: .values(uniform(n))
        )
        let branches = ["x1", "x2"].map {
            ModalitySpec(name: $0, kind: .features, width: 100, standardize: false, layers: [.dense(units: 32), .relu])
        }
        let spec = FusionSpec(
            task: .regression,
            classCount: 1,
            modalities: branches,
            method: .weightedAverage,
            head: [.dense(units: 1)]
        )
        var c = configuration
        c.batchSize = 32
        let result = try Trainer.train(spec: spec, data: data, configuration: c)
        let losses = result.epochs.map(\.trainLoss)
        #expect(losses.count == 10)
        #expect(losses[0] > 0.1 && losses[0] < 0.6, "first epoch \(losses[0])")
        #expect(losses[9] < 0.1 && losses[9] > 0.07, "last epoch \(losses[9]) (the variance of U(0,1) is 0.0833)")
        #expect(losses[9] < losses[0])
        // The fusion weight is a tracked, trained parameter (the trap of the original layer).
        let w = result.model.fusionWeights().perModality.map(\.weight)
        #expect(w.count == 2 && abs(w.reduce(0, +) - 1) < 1e-5)
        #expect(result.model.parameters["fusion.weights"] != spec.initialParameters(seed: 0)["fusion.weights"])
    }

    @Test func sameSeedGivesBitIdenticalModels() throws {
        let data = GradientCheckTests.dataset(kinds: [.probs, .probs], rows: 200, classes: 4)
        var c = configuration
        c.epochs = 3
        c.batchSize = 16
        c.validationSplit = 0.2
        for method in [FusionMethod.weightedAverage, .concatMLP] {
            let spec = FusionSpec.standard(for: data, method: method, hidden: 8)
            let a = try Trainer.train(spec: spec, data: data, configuration: c)
            let b = try Trainer.train(spec: spec, data: data, configuration: c)
            #expect(a.model.parameters == b.model.parameters)
            c.seed = 1
            let other = try Trainer.train(spec: spec, data: data, configuration: c)
            #expect(other.model.parameters != a.model.parameters)
            c.seed = 0
        }
    }

    @Test func initialWeightsReproduceAHandComputedSGDStep() throws {
        // From raw weights [0.2, 0.7], one full-batch plain SGD step (lr 0.5) equals the
        // gradient computed here in Double from the formulas.
        let data = GradientCheckTests.dataset(kinds: [.probs, .probs], rows: 50, classes: 3)
        let spec = FusionSpec.standard(for: data, method: .weightedAverage)
        var c = configuration
        c.epochs = 1
        c.batchSize = 50
        c.optimizer = .sgd
        c.learningRate = 0.5
        c.shuffle = false
        let result = try Trainer.train(
            spec: spec,
            data: data,
            configuration: c,
            initialParameters: ["fusion.weights": Matrix([[0.2, 0.7]])]
        )
        let a = [0.2, 0.7]
        let e = a.map { Double.exp($0) }
        let w = e.map { $0 / e.reduce(0, +) }
        let p = data.modalities.map { $0.values }
        var grad = [0.0, 0.0]
        for i in 0..<data.count {
            let y = data.labels[i]
            let f = (0..<3).map { k in w[0] * Double(p[0][i, k]) + w[1] * Double(p[1][i, k]) }
            // L = −log(f_y / Σf), Σf = 1: ∂L/∂w_m = −p_my/f_y + Σ_k p_mk/Σf = 1 − p_my/f_y
            let dw = (0..<2).map { m in 1 - Double(p[m][i, y]) / f[y] }
            let mean = w[0] * dw[0] + w[1] * dw[1]
            for j in 0..<2 { grad[j] += w[j] * (dw[j] - mean) / Double(data.count) }
        }
        let learned = result.model.parameters["fusion.weights"]!.values
        for j in 0..<2 {
            #expect(Double(learned[j]).isApproximatelyEqual(to: a[j] - 0.5 * grad[j], absoluteTolerance: 1e-5))
        }
    }

    @Test func anchorDataWeightedAverageConvergesToTheOptimumAndFavoursImage() throws {
        let (train, test) = try anchorDatasets()
        let spec = FusionSpec.standard(for: train, method: .weightedAverage)
        let result = try Trainer.train(spec: spec, data: train, configuration: configuration)
        let weights = Dictionary(
            uniqueKeysWithValues: result.model.fusionWeights().perModality.map { ($0.modality, Double($0.weight)) }
        )
        // Keras seed 0: image 0.7169; converged optimum: image 0.7160, text 0.2840; test acc 0.6741.
        #expect(weights["image"]!.isApproximatelyEqual(to: 0.716, absoluteTolerance: 0.015), "\(weights)")
        let acc = try accuracy(result.model, test)
        #expect(acc > 0.665 && acc < 0.68, "test accuracy \(acc)")
        #expect(result.epochs.last!.trainLoss.isApproximatelyEqual(to: 1.1856, absoluteTolerance: 0.003))
    }

    @Test func anchorDataEveryLearnedOperatorBeatsTheMeanAndConcatMLPMatchesKeras() throws {
        let (train, test) = try anchorDatasets()
        let mean = try accuracy(
            FusedClassifier(spec: FusionSpec.standard(for: train, method: .mean), parameters: [:]),
            test
        )
        #expect(mean.isApproximatelyEqual(to: 0.5415, absoluteTolerance: 1e-4))  // Keras: unweighted_mean 0.5415
        var results: [String: Double] = [:]
        for method in [FusionMethod.weightedAverage, .classWeightedAverage, .logLinear, .stacking, .gated, .concatMLP] {
            let spec = FusionSpec.standard(for: train, method: method)
            let model = try Trainer.train(spec: spec, data: train, configuration: configuration).model
            results[method.rawValue] = try accuracy(model, test)
        }
        for (method, acc) in results { #expect(acc >= mean, "\(method): \(acc) < mean \(mean)") }
        // Keras: concat-mlp test accuracy 0.7697 (0.7672–0.7708 over seeds).
        #expect(results["concat-mlp"]! > 0.76, "\(results)")
        // Keras: per-class head 0.6494 (0.6437–0.6507).
        #expect(results["class-weighted-average"]! > 0.64, "\(results)")
    }
}
