import ArgumentParser
import Foundation
import FuseboxCharts
import FusionCore
import RegistryStore
import TensorCore
import TensorIO

extension Fusebox {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "The whole loop on generated image/text-like data: train, register, compare, promote through the gate, roll back.",
            discussion: """
                Generates the outputs of a reliable 'image' model and a weaker, over-confident 'text' model on 10 named classes,
                trains mean, weighted-average, class-weighted-average and concat-mlp fusion heads, registers them as versions of
                MODEL, promotes through the A/B gate to 'production', rolls back once, and writes the data, SVG charts and an HTML
                report to --out.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "Model name to register the heads under.") var model = "demo-fusion"
        @Option(help: "Folder for the generated data, charts and report.") var out = "fusebox-demo"
        @Option(help: "Generated samples (80 % train, 20 % test).") var samples = 20_000
        @Option(help: "Seed of the data and the training.") var seed: UInt64 = 0

        func validate() throws {
            guard samples >= 200 else { throw ValidationError("--samples must be at least 200.") }
        }

        func run() async throws {
            let clock = ContinuousClock.now
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let (train, test) = try SyntheticData.imageText(samples: samples, seed: seed)
            let dataPath = "\(out)/data.safetensors"
            try writeData(train: train, test: test, to: dataPath)
            say(
                "Generated \(train.count) training and \(test.count) test samples of 'image' and 'text' outputs over \(train.classCount) classes → \(dataPath)"
            )

            let registry = try global.openRegistry(.create)
            var configuration = TrainingConfiguration()
            configuration.seed = seed
            configuration.validationSplit = 0.2
            var versions: [(FusionMethod, Int, Double)] = []
            for method in [FusionMethod.mean, .weightedAverage, .classWeightedAverage, .concatMLP] {
                var c = configuration
                if !method.isLearned { c.epochs = 1 }
                let spec = FusionSpec.standard(for: train, method: method)
                let trained = try await registry.trainAndRegister(
                    model: model,
                    spec: spec,
                    data: train,
                    configuration: c,
                    tags: ["source": "demo"]
                )
                let accuracy =
                    try await registry.evaluate(
                        VersionReference(model: model, selector: .number(trained.version)),
                        on: test
                    ).metrics["accuracy"] ?? 0
                versions.append((method, trained.version, accuracy))
                let weights = trained.weights.perModality.map { "\($0.modality) \(String(format: "%.3f", $0.weight))" }
                    .joined(separator: ", ")
                say(
                    String(
                        format: "Trained %@ → %@@%d: test accuracy %.4f%@",
                        method.rawValue,
                        model,
                        trained.version,
                        accuracy,
                        weights.isEmpty ? "" : "; weights \(weights)"
                    )
                )
            }

            let baseline = versions[0]
            let best = versions.max { $0.2 < $1.2 }!
            let ref = { (n: Int) in VersionReference(model: model, selector: .number(n)) }
            let first = try await registry.promote(ref(baseline.1), alias: "production", data: test)
            if first.comparison == nil {
                say("Promoted \(model)@\(baseline.1) (\(baseline.0.rawValue)) to 'production' as the baseline.")
            }
            var promotedSteps: [Int] = []
            for candidate in [versions[1], best] where candidate.1 != baseline.1 && !promotedSteps.contains(candidate.1)
            {
                let outcome = try await registry.promote(
                    ref(candidate.1),
                    alias: "production",
                    data: test,
                    gate: PromotionGate(.better)
                )
                say(
                    "Gate for \(model)@\(candidate.1) (\(candidate.0.rawValue)): \(outcome.passed ? "passed" : "refused") — \(outcome.explanation)"
                )
                if outcome.passed { promotedSteps.append(candidate.1) }
            }
            if !promotedSteps.isEmpty {
                let event = try await registry.rollback("production", model: model, reason: "demo: roll back once")
                say("Rolled 'production' back: \(model)@\(event.fromVersion ?? 0) → \(model)@\(event.toVersion ?? 0).")
            }

            let svgWeights = "\(out)/weighted-average-weights.svg"
            let svgClass = "\(out)/class-weighted-weights.svg"
            let svgCurves = "\(out)/concat-mlp-training.svg"
            let html = "\(out)/comparison.html"
            let wavg = try await registry.version(ref(versions[1].1))
            let cwavg = try await registry.version(ref(versions[2].1))
            let mlp = try await registry.version(ref(versions[3].1))
            // The demo's own outputs: rewritten by every demo run, by the same rule as every output file.
            func write(_ text: String, _ path: String) throws {
                try OutputFile.write(text: text, toPath: path, overwrite: true)
            }
            try write(
                Charts.weights(
                    try await registry.fusionWeightHistory(run: wavg.trainingRun!),
                    title: "Weighted-average fusion weights",
                    classNames: nil
                ),
                svgWeights
            )
            try write(
                Charts.weights(
                    try await registry.fusionWeightHistory(run: cwavg.trainingRun!),
                    title: "Class-weighted fusion weights",
                    classNames: train.classNames
                ),
                svgClass
            )
            try write(
                Charts.curves(try await registry.metricHistories(run: mlp.trainingRun!), title: "concat-mlp training"),
                svgCurves
            )
            let comparison = try await registry.compare(ref(baseline.1), ref(best.1), on: test)
            try write(
                Report.comparison(
                    comparison,
                    models: (
                        try await registry.loadClassifier(ref(baseline.1)),
                        try await registry.loadClassifier(ref(best.1))
                    ),
                    data: test
                ),
                html
            )

            let production = try await registry.version(VersionReference(model: model, selector: .alias("production")))
            let elapsed = ContinuousClock.now - clock
            say("")
            say(
                "Store:      \(registry.path) (\(model): \(try await registry.versions(of: model).count) versions; production → \(model)@\(production.number))"
            )
            say("Charts:     \(svgWeights), \(svgClass), \(svgCurves)")
            say("Report:     \(html)")
            say(
                "Next:       fusebox history \(model)   ·   fusebox weights \(model)@\(versions[1].1)   ·   fusebox runs --where \"metrics.val_accuracy > 0.6\""
            )
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            // With --format json or csv the narrative goes to stderr and the summary to stdout.
            try printDone(
                String(format: "Done in %.1f s.", seconds),
                [
                    "store": registry.path, "model": model, "versions": versions.count, "production": production.number,
                    "test_accuracy": versions.map(\.2), "charts": [svgWeights, svgClass, svgCurves], "report": html,
                    "seconds": seconds,
                ],
                format: global.format
            )
        }

        func say(_ line: String) {
            if global.format == .table { Terminal.out(line) } else { Terminal.err(line) }
        }

        func writeData(train: Dataset, test: Dataset, to path: String) throws {
            var tensors: [(name: String, tensor: Tensor)] = []
            for (split, data) in [("train", train), ("test", test)] {
                for m in data.modalities { tensors.append(("\(split).\(m.name)", Tensor(m.values))) }
                tensors.append(("\(split).labels", Tensor(int32s: data.labels.map { Int32($0) }, shape: [data.count])))
            }
            try SafetensorsWriter.write(
                tensors,
                metadata: [.init(key: "classes", value: (train.classNames ?? []).joined(separator: ","))],
                toPath: path
            )
        }
    }
}
