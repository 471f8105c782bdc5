import ArgumentParser
import Foundation
import FusionCore
import RegistryStore
import TensorCore

extension FusionMethod: ExpressibleByArgument {}

/// `--method`: one fusion method, or `auto` (cross-validate every applicable method, keep the best).
enum MethodChoice: ExpressibleByArgument, Equatable {
    case method(FusionMethod)
    case auto

    init?(argument: String) {
        if argument == "auto" {
            self = .auto
        } else if let method = FusionMethod(rawValue: argument) {
            self = .method(method)
        } else {
            return nil
        }
    }

    static var allValueStrings: [String] { FusionMethod.allCases.map(\.rawValue) + ["auto"] }
    var defaultValueDescription: String {
        switch self {
        case .method(let m): m.rawValue
        case .auto: "auto"
        }
    }
}
extension OptimizerKind: ExpressibleByArgument {}
extension Task: ExpressibleByArgument {}

extension Fusebox {
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a fusion head on modality outputs and register it as a new version.",
            discussion: """
                Methods: \(MethodChoice.allValueStrings.joined(separator: ", ")). 'auto' cross-validates every method that
                applies (--folds, stratified, seeded), prints the leaderboard, records each candidate as a run tagged
                parent_run=N, and registers the winner refitted on all rows.
                Example: fusebox train sentiment --data outputs.safetensors --split train --method weighted-average --val-split 0.2
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var input: DataOptions

        @Argument(help: "Model name, e.g. 'sentiment-av'.") var model: String
        @Option(help: "Fusion method, or 'auto'.") var method: MethodChoice = .method(.weightedAverage)
        @Option(help: "Folds for cross-fitting features branches and for --method auto (stratified, seeded).")
        var folds = 5
        @Flag(
            help:
                "Train features branches together with the head, end to end (as a Keras model would), instead of fitting each on its own and the head on their out-of-fold probabilities."
        )
        var jointBranches = false
        @Option(
            help:
                "Epochs (or L-BFGS iterations). Giving this, --optimizer, --batch-size or --lr selects the explicit path: Adam, lr 1e-3, batch 256, 10 epochs unless given, step for step as Keras."
        )
        var epochs: Int?
        @Option(help: "Mini-batch size (explicit path; default 256).") var batchSize: Int?
        @Option(help: "Learning rate (explicit path; default 1e-3).") var lr: Float?
        @Option(
            help:
                "adam, sgd or lbfgs (explicit path; default adam). Without any of these four options, training converges: L-BFGS to a gradient tolerance for heads without a hidden layer, else Adam with early stopping."
        )
        var optimizer: OptimizerKind?
        @Option(help: "SGD momentum.") var momentum: Float = 0
        @Option(help: "Random seed: initialisation, split, shuffling and dropout.") var seed: UInt64 = 0
        @Option(help: "Fraction of the data held out for validation (stratified).") var valSplit: Double = 0.2
        @Option(
            help:
                "Stop after this many epochs without a lower validation loss (without validation data: without a lower training loss), keeping the best weights."
        )
        var patience: Int?
        @Option(help: "Hidden units of the concat-mlp head (default 128).") var hidden: Int?
        @Option(help: "Dropout rate of the concat-mlp head (default 0.2).") var dropout: Float?
        @Option(help: "classification or regression.") var task: Task = .classification
        @Flag(help: "Learn a temperature per modality before fusing (calibration).") var temperature = false
        @Option(help: "L2 penalty on kernels (default 1e-3 for stacking, else 0).") var l2: Float?
        @Option(help: "Raw weighted-average weights to start from, e.g. 0.2,0.7 (reproduces a reference run).")
        var initWeights: String?
        @Option(help: "Component versions by modality, e.g. image=cnn@3,text=bert@1 (lineage).") var components: String?
        @Option(help: "KEY=VALUE tag for the run and the version; repeat.") var tag: [String] = []
        @Flag(help: "Refuse prediction when a modality is missing (default: renormalise over those present).")
        var refuseMissing = false

        func validate() throws {
            if let epochs, epochs < 1 { throw ValidationError("--epochs must be 1 or more, got \(epochs).") }
            if let batchSize, batchSize < 1 {
                throw ValidationError("--batch-size must be 1 or more, got \(batchSize).")
            }
            if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be positive, got \(lr).") }
            guard valSplit >= 0 && valSplit < 1 else {
                throw ValidationError("--val-split must be in [0, 1), got \(valSplit).")
            }
            if let hidden, hidden < 1 { throw ValidationError("--hidden must be 1 or more.") }
            if let dropout, !(dropout >= 0 && dropout < 1) { throw ValidationError("--dropout must be in [0, 1).") }
            // Options that would do nothing for the method are refused, with the reason.
            if case .method(let m) = method, m != .concatMLP {
                if hidden != nil {
                    throw ValidationError("--hidden applies to concat-mlp; \(m.rawValue) has no hidden layer.")
                }
                if dropout != nil {
                    throw ValidationError("--dropout applies to concat-mlp; \(m.rawValue) has no dropout layer.")
                }
            }

            if let patience, patience < 1 { throw ValidationError("--patience must be 1 or more.") }
            if initWeights != nil && method != .method(.weightedAverage) {
                throw ValidationError("--init-weights applies to --method weighted-average.")
            }
            guard folds >= 2 else { throw ValidationError("--folds must be 2 or more, got \(folds).") }
        }

        func run() async throws {
            // Read and check everything before touching the store.
            let data = try input.load(regression: task == .regression)
            var lineage = Lineage()
            for (modality, ref) in try parsePairs(
                components?.split(separator: ",").map(String.init) ?? [],
                option: "--components"
            ) {
                guard data.modality(modality) != nil else {
                    throw ValidationError("--components names '\(modality)', which is not a modality of the data.")
                }
                lineage.components[modality] = try Fusebox.reference(ref)
            }
            let tags = try parsePairs(tag, option: "--tag")
            guard case .method(let method) = method else {
                return try await runAuto(data: data, lineage: lineage, tags: tags)
            }
            let spec = try spec(for: method, data: data)
            try checkOptionsApply(to: spec)
            if jointBranches && spec.crossFittableModalities.isEmpty {
                throw ValidationError(
                    "--joint-branches applies to features modalities of a classifier; these inputs have none."
                )
            }
            var initial: [String: Matrix] = [:]
            if let initWeights {
                let values = try initWeights.split(separator: ",", omittingEmptySubsequences: false).map { item in
                    let text = item.trimmingCharacters(in: .whitespaces)
                    guard let value = Float(text), value.isFinite else {
                        throw RegistryError(
                            .invalidInput,
                            "--init-weights takes finite numbers separated by commas; '\(text)' is not one."
                        )
                    }
                    return value
                }
                guard values.count == data.modalities.count else {
                    throw ValidationError(
                        "--init-weights needs \(data.modalities.count) numbers (one per modality), got '\(initWeights)'."
                    )
                }
                initial["fusion.weights"] = Matrix(rows: 1, columns: values.count, values: values)
            }
            let configuration = configuration(for: spec)

            let registry = try global.openRegistry(.create)
            if !lineage.components.isEmpty {
                for reference in lineage.components.values { _ = try await registry.version(reference) }
            }
            let progress = ProgressLine(total: configuration.epochs)
            let trained = try await registry.trainAndRegister(
                model: model,
                spec: spec,
                data: data,
                configuration: configuration,
                initialParameters: initial,
                lineage: lineage,
                tags: tags
            ) { report in progress.update(step: report.epoch, Self.describe(report)) }
            progress.finish()
            try Self.print(trained, format: global.format)
        }

        /// `--method auto`: the leaderboard, then the registered winner.
        func runAuto(data: Dataset, lineage: Lineage, tags: [String: String]) async throws {
            let registry = try global.openRegistry(.create)
            for reference in lineage.components.values { _ = try await registry.version(reference) }
            let progress = ProgressLine(total: 0)
            let selected = try await registry.selectTrainAndRegister(
                model: model,
                data: data,
                folds: folds,
                seed: seed,
                spec: { try spec(for: $0, data: data) },
                configuration: configuration(for:),
                lineage: lineage,
                tags: tags,
                progress: { method, position, count in
                    Terminal.err("auto: \(method.rawValue) (\(position)/\(count)), \(folds) folds")
                },
                onEpoch: { report in progress.update(step: report.epoch, Self.describe(report)) }
            )
            progress.finish()
            try Self.print(selected, format: global.format)
        }

        /// Refuses training options given for a spec with nothing to train (a parameter-free method on
        /// probability outputs, without --temperature): they would do nothing.
        func checkOptionsApply(to spec: FusionSpec) throws {
            guard spec.parameterShapes.isEmpty else { return }
            let given = [
                ("--epochs", epochs != nil), ("--batch-size", batchSize != nil), ("--lr", lr != nil),
                ("--optimizer", optimizer != nil),
                ("--patience", patience != nil),
            ]
            if let option = given.first(where: \.1)?.0 {
                throw ValidationError(
                    "\(option) does nothing for \(spec.method.rawValue) on these inputs: it has no parameters to train (--temperature would add some)."
                )
            }
        }

        /// The spec for `method` with the command's options.
        func spec(for method: FusionMethod, data: Dataset) throws -> FusionSpec {
            var spec = FusionSpec.standard(
                for: data,
                method: method,
                hidden: hidden ?? 128,
                dropout: dropout ?? 0.2,
                temperature: temperature,
                l2: l2
            )
            if refuseMissing { spec.missingModalities = .refuse }
            try spec.validate()
            return spec
        }

        /// No optimisation setting given: train to convergence; any given: the explicit (Keras) path.
        func configuration(for spec: FusionSpec) -> TrainingConfiguration {
            let explicit = epochs != nil || batchSize != nil || lr != nil || optimizer != nil
            var configuration = explicit ? TrainingConfiguration() : .converging(for: spec)
            if let epochs { configuration.epochs = epochs }
            if let batchSize { configuration.batchSize = batchSize }
            if let lr { configuration.learningRate = lr }
            if let optimizer { configuration.optimizer = optimizer }
            if let patience { configuration.patience = patience }
            configuration.momentum = momentum
            configuration.seed = seed
            configuration.validationSplit = valSplit
            configuration.branchFolds = jointBranches || spec.crossFittableModalities.isEmpty ? nil : folds
            return configuration
        }

        static func describe(_ report: EpochReport) -> String {
            var detail = String(format: "loss %.4f", report.trainLoss)
            if let v = report.validationLoss { detail += String(format: "  val_loss %.4f", v) }
            if let a = report.validationMetrics["accuracy"] { detail += String(format: "  val_acc %.4f", a) }
            return detail
        }

        static func print(_ s: SelectedVersion, format: OutputFormat) throws {
            let rows = zip(s.selection.candidates, s.candidateRuns).map { c, run -> [String: Any] in
                [
                    "method": c.method.rawValue, "run": run, "cv_log_loss": c.meanLogLoss,
                    "cv_log_loss_se": c.logLossStandardError,
                    "cv_accuracy": c.meanAccuracy, "cv_accuracy_se": c.accuracyStandardError,
                    "parameters": c.parameterCount,
                    "paired_log_loss_delta": jsonNumber(c.pairedAgainstWinner?.difference),
                    "paired_log_loss_delta_se": jsonNumber(c.pairedAgainstWinner?.standardError),
                    "paired_p": jsonNumber(c.pairedAgainstWinner?.p), "winner": c.method == s.selection.winner,
                ]
            }
            let columns = [
                "method", "cv_log_loss", "cv_log_loss_se", "cv_accuracy", "cv_accuracy_se", "paired_log_loss_delta",
                "paired_p", "parameters", "run",
            ]
            let cells = rows.map { row in
                columns.map { key -> String in
                    switch row[key] {
                    case let x as Double:
                        format == .csv ? "\(x)" : String(format: key == "paired_p" ? "%.3g" : "%.4f", x)
                    case let x as Int: "\(x)"
                    case let x as Int64: "\(x)"
                    case let x as String:
                        x + (key == "method" && row["winner"] as? Bool == true && format == .table ? " *" : "")
                    default: ""
                    }
                }
            }
            switch format {
            case .json:
                var object = trainedJSON(s.trained)
                object["leaderboard"] = rows
                object["chosen_method"] = s.selection.winner.rawValue
                object["folds"] = s.selection.folds
                try printJSON(object)
            case .csv: Terminal.out(Listing(columns: columns, rows: cells).csv())
            case .table:
                Terminal.out(
                    "\(s.selection.folds)-fold cross-validation (* the winner: lowest log-loss, or the simplest within one standard error):"
                )
                Terminal.out(Listing(columns: columns, rows: cells).table())
                Terminal.out("")
                try print(s.trained, format: .table)
            }
        }

        static func trainedJSON(_ t: TrainedVersion) -> [String: Any] {
            let weights = t.weights.entries.map { e -> [String: Any] in
                [
                    "modality": e.modality, "class": e.classIndex.map { $0 as Any } ?? NSNull(),
                    "weight": Double(e.weight),
                ]
            }
            return [
                "model": t.model, "version": t.version, "run": t.run, "metrics": t.metrics.mapValues { jsonNumber($0) },
                "weights": weights,
                "epochs": t.epochs.count, "stopped_early": t.stoppedEarly, "metrics_data": t.metricsData,
                "metrics_samples": t.metricsSamples,
            ]
        }

        static func print(_ t: TrainedVersion, format: OutputFormat) throws {
            switch format {
            case .json:
                try printJSON(trainedJSON(t))
            case .csv:
                try Listing(
                    columns: ["metric", "value"],
                    rows: t.metrics.sorted { $0.key < $1.key }.map { [Cell($0.key), .number($0.value)] }
                ).render(.csv, json: [])
            case .table:
                Terminal.out(
                    "\(Terminal.bold("\(t.model)@\(t.version)")) registered (run \(t.run), \(t.epochs.count) epochs\(t.stoppedEarly ? ", stopped early" : ""))."
                )
                let shown = ["accuracy", "balanced_accuracy", "macro_f1", "nll", "ece", "rmse", "mae", "r2"].filter {
                    t.metrics[$0] != nil
                }
                let note = t.metricsData == "training" ? "no validation split, so optimistic" : "held out"
                Terminal.out(
                    "On the \(t.metricsData) data (\(t.metricsSamples) samples, \(note)): "
                        + shown.map { "\($0) \(formatNumber(t.metrics[$0]!))" }.joined(separator: "  ")
                )
                let perModality = t.weights.perModality
                if !perModality.isEmpty {
                    Terminal.out(
                        t.weights.entries.contains { $0.classIndex != nil }
                            ? "Fusion weights (mean over classes):" : "Fusion weights:"
                    )
                    let width = perModality.map(\.modality.count).max() ?? 0
                    for (name, w) in perModality {
                        Terminal.out(
                            "  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(bar(Double(w)))  \(String(format: "%.3f", w))"
                        )
                    }
                }
            }
        }
    }
}
