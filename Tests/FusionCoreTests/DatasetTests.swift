import FuseboxTestSupport
import Testing

@testable import FusionCore
@testable import TensorCore
@testable import TensorIO

struct DatasetTests {
    let probs = Matrix([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])

    func expectInvalid(_ fragment: String, _ body: () throws -> Void) {
        #expect {
            try body()
        } throws: { ($0 as? FusionError)?.code == .invalidData && "\($0)".contains(fragment) }
    }

    @Test func validationNamesTheProblem() {
        expectInvalid("rows but there are 2 labels") {
            _ = try Dataset(
                modalities: [ModalityInput(name: "a", kind: .probs, values: probs)],
                targets: .classes([0, 1])
            )
        }
        expectInvalid("non-finite value (nan) at row 1, column 0") {
            var m = probs
            m[1, 0] = .nan
            _ = try Dataset(
                modalities: [ModalityInput(name: "a", kind: .features, values: m)],
                targets: .classes([0, 1, 0])
            )
        }
        expectInvalid("row 0 sums to 1.5") {
            _ = try Dataset(
                modalities: [ModalityInput(name: "a", kind: .probs, values: Matrix([[1, 0.5], [1, 0], [0, 1]]))],
                targets: .classes([0, 1, 0])
            )
        }
        expectInvalid("label 5 at row 2 is out of range 0..<2") {
            _ = try Dataset(
                modalities: [ModalityInput(name: "a", kind: .probs, values: probs)],
                targets: .classes([0, 1, 5]),
                classCount: 2
            )
        }
        expectInvalid("label -1 at row 0") {
            _ = try Dataset(
                modalities: [ModalityInput(name: "a", kind: .probs, values: probs)],
                targets: .classes([-1, 1, 0])
            )
        }
        expectInvalid("appears twice") {
            let m = ModalityInput(name: "a", kind: .probs, values: probs)
            _ = try Dataset(modalities: [m, m], targets: .classes([0, 1, 0]))
        }
    }

    @Test func kindDetection() {
        #expect(ModalityInput.detectKind(probs) == .probs)
        #expect(ModalityInput.detectKind(Matrix([[2, -1]])) == .features)
    }

    @Test func stratifiedSplitKeepsClassProportionsAndIsSeeded() throws {
        let n = 1000
        let labels = (0..<n).map { $0 < 800 ? 0 : 1 }
        let data = try Dataset(
            modalities: [
                ModalityInput(
                    name: "a",
                    kind: .features,
                    values: Matrix(rows: n, columns: 1, values: (0..<n).map(Float.init))
                )
            ],
            targets: .classes(labels)
        )
        let (train, validation) = data.stratifiedSplit(validationFraction: 0.2, seed: 3)
        #expect(train.count == 800 && validation.count == 200)
        #expect(validation.labels.filter { $0 == 1 }.count == 40)
        #expect(
            data.stratifiedSplit(validationFraction: 0.2, seed: 3).validation.modalities[0].values
                == validation.modalities[0].values
        )
        #expect(
            data.stratifiedSplit(validationFraction: 0.2, seed: 4).validation.modalities[0].values
                != validation.modalities[0].values
        )
    }

    @Test func fingerprintIsTheSameWhateverTheFileFormat() throws {
        // The same numbers from safetensors (int32 labels), .npy (int64 big-endian labels) and CSV.
        let dir = TemporaryDirectory()
        let image = Tensor(floats: [0.25, 0.75, 0.5, 0.5], shape: [2, 2])
        try SafetensorsWriter.write(
            [("image", image), ("labels", Tensor(int32s: [1, 0], shape: [2]))],
            toPath: dir.file("d.safetensors")
        )
        let file = try SafetensorsFile(path: dir.file("d.safetensors"))
        let a = try Dataset(
            modalities: [
                ModalityInput(name: "image", kind: .probs, values: try file.tensor(named: "image").floatMatrix())
            ],
            targets: .classes(try file.tensor(named: "labels").doubles().map { Int($0) })
        )
        let bigEndianLabels = try Tensor(
            dtype: .int64,
            shape: [2],
            bytes: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        )
        let csv = try CSVTable.parse("p0,p1,label\n0.25,0.75,1\n0.5,0.5,0\n", path: "d.csv", labelColumn: "label")
        let b = try Dataset(
            modalities: [ModalityInput(name: "image", kind: .probs, values: csv.matrix)],
            targets: .classes(csv.labels!.map { Int($0) })
        )
        let c = try Dataset(
            modalities: [ModalityInput(name: "image", kind: .probs, values: image.floatMatrix())],
            targets: .classes(bigEndianLabels.doubles().map { Int($0) })
        )
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.fingerprint == c.fingerprint)
        #expect(a.fingerprint.count == 64)
        let changed = try Dataset(modalities: a.modalities, targets: .classes([0, 0]))
        #expect(changed.fingerprint != a.fingerprint)
    }
}

struct InferenceTests {
    @Test func missingModalityRenormalisesOrIsRefused() throws {
        let data = GradientCheckTests.dataset(kinds: [.probs, .probs, .probs], rows: 20, classes: 3)
        var spec = FusionSpec.standard(for: data, method: .weightedAverage)
        let parameters = ["fusion.weights": Matrix([[0.0, 1.0, 2.0]])]
        let model = try FusedClassifier(spec: spec, parameters: parameters)
        // Without m2, the weights over m0 and m1 are softmax([0, 1]).
        let partial = try data.selecting(modalities: ["m0", "m1"])
        let p = try model.predictProbabilities(partial)
        let w = FusionSpec.softmax([0, 1])
        for i in 0..<20 {
            for k in 0..<3 {
                let expected = w[0] * data.modalities[0].values[i, k] + w[1] * data.modalities[1].values[i, k]
                #expect(abs(p[i, k] - expected) < 1e-5)
            }
        }
        spec.missingModalities = .refuse
        let strict = try FusedClassifier(spec: spec, parameters: parameters)
        #expect(throws: FusionError.self) { try strict.predictProbabilities(partial) }
    }

    @Test func everyOperatorPredictsRowsThatSumToOneWithAnyModalityMissing() throws {
        let data = GradientCheckTests.dataset(kinds: [.probs, .logits, .features], rows: 30, classes: 4)
        for method in FusionMethod.allCases {
            let spec = FusionSpec.standard(for: data, method: method, hidden: 6)
            var c = TrainingConfiguration()
            c.epochs = 2
            c.batchSize = 8
            let model = try Trainer.train(spec: spec, data: data, configuration: c).model
            for drop in ["m0", "m1", "m2"] {
                let partial = try data.selecting(modalities: ["m0", "m1", "m2"].filter { $0 != drop })
                // Methods whose learned layer reads every modality refuse, naming the modality.
                guard method.absentModality != .refused else {
                    #expect(throws: FusionError.self, "\(method.rawValue)") { try model.predictProbabilities(partial) }
                    continue
                }
                let p = try model.predictProbabilities(partial)
                for s in p.rowSums() { #expect(abs(s - 1) < 1e-4, "\(method.rawValue) without \(drop)") }
            }
        }
    }

    @Test func earlyStoppingRestoresTheBestEpochAndCancellationStops() throws {
        let data = GradientCheckTests.dataset(kinds: [.probs, .probs], rows: 100, classes: 3)
        var c = TrainingConfiguration()
        c.epochs = 50
        c.batchSize = 10
        c.learningRate = 0.5
        c.validationSplit = 0.3
        c.patience = 2
        let spec = FusionSpec.standard(for: data, method: .concatMLP, hidden: 16)
        let result = try Trainer.train(spec: spec, data: data, configuration: c)
        let losses = result.epochs.map { $0.validationLoss! }
        #expect(result.stoppedEarly)
        #expect(losses[result.bestEpoch - 1] == losses.min())
        #expect(result.epochs.count == result.bestEpoch + 2)
        #expect(throws: FusionError.self) {
            try Trainer.train(spec: spec, data: data, configuration: c) { $0.epoch < 2 }
        }
    }

    @Test func specRoundTripsThroughJSONAndRefusesNewerFormats() throws {
        let data = GradientCheckTests.dataset(kinds: [.probs, .features], rows: 10, classes: 3)
        let spec = FusionSpec.standard(for: data, method: .concatMLP)
        let json = try JSONEncoderLite.encode(spec)
        #expect(try JSONEncoderLite.decode(FusionSpec.self, json) == spec)
        var newer = spec
        newer.formatVersion = 99
        #expect(throws: FusionError.self) { try newer.validate() }
    }
}
