import Foundation
import FusionCore
import TensorCore
import TensorIO

/// Training and prediction speed of the fusion heads on the Keras anchor data, with the same
/// settings as ../shared/anchors/keras/fusion_bench.py (10 epochs, batch 256, Adam 1e-3).
/// With `--keras PYTHON`, runs that script in the same session and prints the ratios.
struct FusionBenchmark {
    let options: BenchOptions

    struct Figures {
        var epochSeconds: [Double] = []
        var predictPerSecond: [Double] = []
        var oneCallPerSecond: [Double] = []
        var testAccuracy: [Double] = []
        var finalLoss: [Double] = []
        var weights = ""
    }

    func run() throws {
        let set = options.string("set", "m2")
        let dataDir = options.string("data", "../shared/anchors/keras/data")
        let repeats = options.int("repeats", 5)
        let names = set == "m3" ? ["image", "text", "audio"] : ["image", "text"]
        let file = try SafetensorsFile(path: "\(dataDir)/\(set)/fusion_k10_\(set).safetensors")
        func split(_ s: String) throws -> Dataset {
            try Dataset(
                modalities: names.map {
                    ModalityInput(name: $0, kind: .probs, values: try file.tensor(named: "\(s).\($0)").floatMatrix())
                },
                targets: .classes(try file.tensor(named: "\(s).labels").doubles().map { Int($0) }),
                classCount: 10
            )
        }
        let train = try split("train")
        let test = try split("test")
        let all = try Dataset(
            modalities: names.map { n in
                ModalityInput(
                    name: n,
                    kind: .probs,
                    values: Matrix(
                        rows: 50_000,
                        columns: 10,
                        values: train.modality(n)!.values.values + test.modality(n)!.values.values
                    )
                )
            },
            targets: .classes(train.labels + test.labels),
            classCount: 10
        )

        let wanted = Set(options.string("heads", "mlp,wavg,perclass").split(separator: ",").map(String.init))
        let heads: [(String, FusionMethod)] = [
            ("mlp", .concatMLP), ("wavg", .weightedAverage), ("perclass", .classWeightedAverage),
        ]
        .filter { wanted.contains($0.0) }
        var figures: [String: Figures] = [:]
        for (label, method) in heads {
            var f = Figures()
            for seed in 0..<repeats {
                var c = TrainingConfiguration()
                c.seed = UInt64(seed)
                let spec = FusionSpec.standard(for: train, method: method)
                let result = try Trainer.train(spec: spec, data: train, configuration: c)
                f.epochSeconds.append(Measure.median(result.epochs.map(\.seconds)))
                f.finalLoss.append(result.epochs.last!.trainLoss)
                let predicted = try result.model.predictClasses(test)
                f.testAccuracy.append(
                    Double(zip(predicted, test.labels).filter { $0 == $1 }.count) / Double(test.count)
                )
                var batched: [Double] = []
                var oneCall: [Double] = []
                for _ in 0..<3 {
                    batched.append(
                        50_000
                            / (try Measure.seconds { _ = try result.model.predictProbabilities(all, batchSize: 256) })
                    )
                    oneCall.append(
                        50_000
                            / (try Measure.seconds { _ = try result.model.predictProbabilities(all, batchSize: 50_000) })
                    )
                }
                f.predictPerSecond.append(Measure.median(batched))
                f.oneCallPerSecond.append(Measure.median(oneCall))
                if seed == 0 {
                    f.weights = result.model.fusionWeights().perModality.map {
                        "\($0.modality) \(String(format: "%.4f", $0.weight))"
                    }.joined(separator: ", ")
                }
            }
            figures[label] = f
            FileHandle.standardError.write(Data("\(label): epoch \(Measure.summary(f.epochSeconds, "%.4f")) s\n".utf8))
        }

        var keras: [String: (epoch: Double, predict: Double, oneCall: Double, acc: Double)] = [:]
        if let python = options.values["keras"] {
            let script = options.string("keras-script", "../shared/anchors/keras/fusion_bench.py")
            let json = NSTemporaryDirectory() + "keras-fusion-\(getpid()).json"
            let modalities = set == "m3" ? "3" : "2"
            FileHandle.standardError.write(
                Data("running Keras: \(python) \(script) --modalities \(modalities) --repeats \(repeats)\n".utf8)
            )
            _ = try Child.run(
                python,
                [script, "--modalities", modalities, "--repeats", String(repeats), "--no-optimum", "--json", json]
            )
            let object =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
            for (label, _) in heads {
                let runs = (object["runs"] as! [[String: Any]]).filter { $0["head"] as? String == label }
                keras[label] = (
                    Measure.median(runs.map { $0["epoch_wall_s_median"] as! Double }),
                    Measure.median(runs.map { $0["predict_samples_per_s"] as! Double }),
                    Measure.median(runs.map { $0["direct_call_samples_per_s"] as! Double }),
                    Measure.median(runs.map { $0["test_acc"] as! Double })
                )
            }
        }

        print(
            "Data \(set): 40,000 train / 10,000 test, 10 epochs, batch 256, Adam 1e-3, seeds 0–\(repeats - 1); median (range) over seeds."
        )
        print("Kernel: \(Matrix.kernel.rawValue), \(Matrix.processorCount) cores.\n")
        print(
            "| head | epoch s | train samples/s | predict bs 256, samples/s | one call on 50k, samples/s | test acc | final train loss | weights (seed 0) |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for (label, _) in heads {
            let f = figures[label]!
            print(
                "| \(label) | \(Measure.summary(f.epochSeconds, "%.4f")) | \(String(format: "%.0f", 40_000 / Measure.median(f.epochSeconds))) | \(Measure.summary(f.predictPerSecond, "%.0f")) | \(Measure.summary(f.oneCallPerSecond, "%.0f")) | \(Measure.summary(f.testAccuracy, "%.4f")) | \(Measure.summary(f.finalLoss, "%.4f")) | \(f.weights.isEmpty ? "n/a" : f.weights) |"
            )
        }
        guard !keras.isEmpty else { return }
        print(
            "\n| head | Keras epoch s | Fusebox epoch s | speed-up | Keras predict/s | Fusebox predict/s | ratio | Keras one call/s | Fusebox one call/s | ratio | Keras test acc | Fusebox test acc |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for (label, _) in heads {
            let f = figures[label]!
            let k = keras[label]!
            let e = Measure.median(f.epochSeconds)
            let p = Measure.median(f.predictPerSecond)
            let o = Measure.median(f.oneCallPerSecond)
            print(
                String(
                    format: "| %@ | %.3f | %.4f | %.0f× | %.0f | %.0f | %.1f× | %.0f | %.0f | %.1f× | %.4f | %.4f |",
                    label,
                    k.epoch,
                    e,
                    k.epoch / e,
                    k.predict,
                    p,
                    p / k.predict,
                    k.oneCall,
                    o,
                    o / k.oneCall,
                    k.acc,
                    Measure.median(f.testAccuracy)
                )
            )
        }
    }
}
