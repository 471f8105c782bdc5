import FuseboxTestSupport
import Testing

@testable import FusionCore
@testable import TensorCore

/// A training step split across cores gives the whole batch's mean loss and gradient, and the
/// same step every time for a seed and a part count.
struct DataParallelStepTests {
    static func setting(head: [LayerSpec]) -> (FusionNetwork, [Matrix], Targets, [String: Matrix]) {
        let data = GradientCheckTests.dataset(kinds: [.probs, .features], rows: 300, width: 5)
        let modalities = [
            ModalitySpec(name: "m0", kind: .probs, width: 3, layers: []),
            ModalitySpec(name: "m1", kind: .features, width: 5, layers: [.dense(units: 3)]),
        ]
        let spec = FusionSpec(classCount: 3, modalities: modalities, method: .concatMLP, head: head, l2: 1e-3)
        var parameters = spec.initialParameters(seed: 4)
        Trainer.fitStandardization(spec: spec, data: data, parameters: &parameters)
        let model = try! FusedClassifier(spec: spec, parameters: parameters)
        return (model.network, try! model.inputs(for: data).map { $0! }, data.targets, parameters)
    }

    @Test(arguments: [2, 3, 7])
    func partsCombineToTheWholeBatch(parts: Int) {
        let (network, inputs, targets, parameters) = Self.setting(head: [.dense(units: 16), .relu, .dense(units: 3)])
        let rows = Array(0..<300)[17..<273]  // a slice that does not start at 0, of 256 rows
        var rng = SeededRandom(seed: 1)
        let whole = Trainer.lossAndGradients(
            network,
            inputs: inputs,
            rows: rows,
            targets: targets,
            parameters: parameters,
            parts: 1,
            rng: &rng
        )
        rng = SeededRandom(seed: 1)
        let split = Trainer.lossAndGradients(
            network,
            inputs: inputs,
            rows: rows,
            targets: targets,
            parameters: parameters,
            parts: parts,
            rng: &rng
        )
        #expect(abs(split.loss - whole.loss) <= 1e-6 * abs(whole.loss))
        #expect(Set(split.gradients.keys) == Set(whole.gradients.keys))
        for (name, g) in whole.gradients {
            let s = split.gradients[name]!.values
            let scale = max(g.values.map(abs).max()!, 1e-3)
            #expect(zip(g.values, s).allSatisfy { abs($0 - $1) <= 1e-5 * scale }, "\(name)")
        }
    }

    @Test func aSplitStepWithDropoutRepeatsForItsSeed() {
        let (network, inputs, targets, parameters) = Self.setting(
            head: [.dense(units: 16), .relu, .dropout(rate: 0.2), .dense(units: 3)]
        )
        func step() -> (loss: Double, gradients: [String: Matrix]) {
            var rng = SeededRandom(seed: 9)
            return Trainer.lossAndGradients(
                network,
                inputs: inputs,
                rows: Array(0..<256)[...],
                targets: targets,
                parameters: parameters,
                parts: 2,
                rng: &rng
            )
        }
        let (a, b) = (step(), step())
        #expect(a.loss == b.loss)
        #expect(a.gradients.mapValues(\.values) == b.gradients.mapValues(\.values))
    }

    @Test func onlyNetworksWithDenseLayersAreSplit() {
        let probs = [ModalitySpec(name: "a", kind: .probs, width: 3, layers: [])]
        let weighted = FusionSpec(
            classCount: 3,
            modalities: probs + [ModalitySpec(name: "b", kind: .probs, width: 3, layers: [])],
            method: .weightedAverage
        )
        #expect(Trainer.dataParallelParts(weighted, rows: 256) == 1)
        let mlp = FusionSpec(
            classCount: 3,
            modalities: probs,
            method: .concatMLP,
            head: [.dense(units: 8), .relu, .dense(units: 3)]
        )
        #expect(Trainer.dataParallelParts(mlp, rows: 256) == min(Matrix.processorCount, 4))
        #expect(Trainer.dataParallelParts(mlp, rows: 100) == 1)
    }
}
