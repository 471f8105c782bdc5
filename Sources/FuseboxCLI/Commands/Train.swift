import ArgumentParser
import Foundation
import FusionCore
import RegistryStore
import TensorCore

extension FusionMethod: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension Task: ExpressibleByArgument {}

extension Fusebox {
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a fusion head on modality outputs and register it as a new version.",
            discussion: """
                Methods: \(FusionMethod.allCases.map(\.rawValue).joined(separator: ", ")).
                Example: fusebox train sentiment --data outputs.safetensors --split train --method weighted-average --val-split 0.2
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var input: DataOptions

        @Argument(help: "Model name, e.g. 'sentiment-av'.") var model: String
        @Option(help: "Fusion method.") var method: FusionMethod = .weightedAverage
        @Option(help: "Epochs.") var epochs = 10
        @Option(help: "Mini-batch size.") var batchSize = 256
        @Option(help: "Learning rate.") var lr: Float = 1e-3
        @Option(help: "adam or sgd.") var optimizer: OptimizerKind = .adam
        @Option(help: "SGD momentum.") var momentum: Float = 0
        @Option(help: "Random seed: initialisation, split, shuffling and dropout.") var seed: UInt64 = 0
        @Option(help: "Fraction of the data held out for validation (stratified).") var valSplit: Double = 0.2
        @Option(help: "Stop after this many epochs without a lower validation loss, keeping the best weights.") var patience: Int?
        @Option(help: "Hidden units of the concat-mlp head.") var hidden = 128
        @Option(help: "Dropout rate of the concat-mlp head.") var dropout: Float = 0.2
        @Option(help: "classification or regression.") var task: Task = .classification
        @Flag(help: "Learn a temperature per modality before fusing (calibration).") var temperature = false
        @Option(help: "L2 penalty on kernels (default 1e-3 for stacking, else 0).") var l2: Float?
        @Option(help: "Raw weighted-average weights to start from, e.g. 0.2,0.7 (reproduces a reference run).") var initWeights: String?
        @Option(help: "Component versions by modality, e.g. image=cnn@3,text=bert@1 (lineage).") var components: String?
        @Option(help: "KEY=VALUE tag for the run and the version; repeat.") var tag: [String] = []
        @Flag(help: "Refuse prediction when a modality is missing (default: renormalise over those present).") var refuseMissing = false

        func validate() throws {
            guard epochs >= 1 else { throw ValidationError("--epochs must be 1 or more, got \(epochs).") }
            guard batchSize >= 1 else { throw ValidationError("--batch-size must be 1 or more, got \(batchSize).") }
            guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be positive, got \(lr).") }
            guard valSplit >= 0 && valSplit < 1 else { throw ValidationError("--val-split must be in [0, 1), got \(valSplit).") }
            guard hidden >= 1 else { throw ValidationError("--hidden must be 1 or more.") }
            guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1).") }
            if let patience, patience < 1 { throw ValidationError("--patience must be 1 or more.") }
            if patience != nil && valSplit == 0 { throw ValidationError("--patience needs validation data: set --val-split.") }
            if initWeights != nil && method != .weightedAverage { throw ValidationError("--init-weights applies to --method weighted-average.") }
        }

        func run() async throws {
            // Read and check everything before touching the store.
            let data = try input.load(regression: task == .regression)
            var spec = FusionSpec.standard(for: data, method: method, hidden: hidden, dropout: dropout, temperature: temperature, l2: l2)
            if refuseMissing { spec.missingModalities = .refuse }
            try spec.validate()
            var initial: [String: Matrix] = [:]
            if let initWeights {
                let values = initWeights.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
                guard values.count == data.modalities.count else {
                    throw ValidationError("--init-weights needs \(data.modalities.count) numbers (one per modality), got '\(initWeights)'.")
                }
                initial["fusion.weights"] = Matrix(rows: 1, columns: values.count, values: values)
            }
            var lineage = Lineage()
            for (modality, ref) in try parsePairs(components?.split(separator: ",").map(String.init) ?? [], option: "--components") {
                guard data.modality(modality) != nil else { throw ValidationError("--components names '\(modality)', which is not a modality of the data.") }
                lineage.components[modality] = try Fusebox.reference(ref)
            }
            var configuration = TrainingConfiguration()
            configuration.epochs = epochs
            configuration.batchSize = batchSize
            configuration.learningRate = lr
            configuration.optimizer = optimizer
            configuration.momentum = momentum
            configuration.seed = seed
            configuration.validationSplit = valSplit
            configuration.patience = patience

            let registry = try global.openRegistry(create: true)
            if !lineage.components.isEmpty {
                for reference in lineage.components.values { _ = try await registry.version(reference) }
            }
            let progress = ProgressLine(total: epochs)
            let trained = try await registry.trainAndRegister(
                model: model, spec: spec, data: data, configuration: configuration, initialParameters: initial, lineage: lineage,
                tags: try parsePairs(tag, option: "--tag")
            ) { report in
                var detail = String(format: "loss %.4f", report.trainLoss)
                if let v = report.validationLoss { detail += String(format: "  val_loss %.4f", v) }
                if let a = report.validationMetrics["accuracy"] { detail += String(format: "  val_acc %.4f", a) }
                progress.update(step: report.epoch, detail)
            }
            progress.finish()
            Self.print(trained, format: global.format)
        }

        static func print(_ t: TrainedVersion, format: OutputFormat) {
            let weights = t.weights.entries.map { e -> [String: Any] in ["modality": e.modality, "class": e.classIndex.map { $0 as Any } ?? NSNull(), "weight": Double(e.weight)] }
            switch format {
            case .json:
                printJSON([
                    "model": t.model, "version": t.version, "run": t.run, "metrics": t.metrics.mapValues { jsonNumber($0) }, "weights": weights,
                    "epochs": t.epochs.count, "stopped_early": t.stoppedEarly,
                ] as [String: Any])
            case .csv:
                Listing(columns: ["metric", "value"], rows: t.metrics.sorted { $0.key < $1.key }.map { [$0.key, formatNumber($0.value)] }).render(.csv, json: [])
            case .table:
                Terminal.out("\(Terminal.bold("\(t.model)@\(t.version)")) registered (run \(t.run), \(t.epochs.count) epochs\(t.stoppedEarly ? ", stopped early" : "")).")
                let shown = ["accuracy", "balanced_accuracy", "macro_f1", "nll", "ece", "rmse", "mae", "r2"].filter { t.metrics[$0] != nil }
                Terminal.out(shown.map { "\($0) \(formatNumber(t.metrics[$0]!))" }.joined(separator: "  "))
                let perModality = t.weights.perModality
                if !perModality.isEmpty {
                    Terminal.out(t.weights.entries.contains { $0.classIndex != nil } ? "Fusion weights (mean over classes):" : "Fusion weights:")
                    let width = perModality.map(\.modality.count).max() ?? 0
                    for (name, w) in perModality {
                        Terminal.out("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(bar(Double(w)))  \(String(format: "%.3f", w))")
                    }
                }
            }
        }
    }
}
