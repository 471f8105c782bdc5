import ArgumentParser
import Foundation
import FusionCore
import RegistryStore
import TensorCore
import TensorIO

extension Fusebox {
    struct Predict: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Predict with a version: class probabilities per sample (labels are not needed)."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var input: DataOptions
        @Argument(help: "Reference, e.g. sentiment@production.") var reference: String
        @Option(name: .shortAndLong, help: "Write the probabilities to a .npy or .csv file instead of stdout.")
        var output: String?
        @Flag(help: "Overwrite an existing output file.") var force = false

        func validate() throws {
            if let output, !output.hasSuffix(".npy") && !output.hasSuffix(".csv") {
                throw ValidationError("-o takes a .npy or .csv file, got '\(output)'.")
            }
        }

        func run() async throws {
            if let output { try OutputFile.checkWritable(output, overwrite: force) }
            let registry = try global.openRegistry(.read)
            let model = try await registry.loadClassifier(Fusebox.reference(reference))
            let data = try input.load(
                regression: model.spec.task == .regression,
                requireLabels: false,
                model: model.spec
            )
            if let notice = model.absentModalityNotice(for: data) { Terminal.err("Note: \(notice)") }
            let p = try model.predictProbabilities(data)
            let predicted = model.spec.task == .classification ? p.argmaxRows() : []
            // Without class names a class is its index: `predicted` is 9, the probability columns p0…p9.
            let names = model.spec.classNames ?? (0..<p.columns).map { String($0) }
            let columns = model.spec.classNames ?? (0..<p.columns).map { "p\($0)" }
            if let output {
                if output.hasSuffix(".npy") {
                    try NumPyArray.write(Tensor(p), toPath: output, overwrite: force)
                } else {
                    let lines =
                        ["predicted," + columns.joined(separator: ",")]
                        + (0..<p.rows).map { i in
                            "\(predicted.isEmpty ? "" : names[predicted[i]]),\(p.row(i).map { String($0) }.joined(separator: ","))"
                        }
                    try OutputFile.write(text: lines.joined(separator: "\n") + "\n", toPath: output, overwrite: force)
                }
                Terminal.err("Wrote \(p.rows) predictions to '\(output)'.")
                return
            }
            try Listing(
                columns: ["sample", "predicted"] + columns,
                rows: (0..<p.rows).map { i in
                    [Cell(String(i)), Cell(predicted.isEmpty ? "" : names[predicted[i]])]
                        + p.row(i).map { Cell.number(Double($0)) }
                }
            ).render(
                global.format,
                json: (0..<p.rows).map { i in
                    [
                        "sample": i,
                        "predicted": predicted.isEmpty
                            ? NSNull() : model.spec.classNames.map { $0[predicted[i]] as Any } ?? predicted[i],
                        "probabilities": p.row(i).map(Double.init),
                    ] as [String: Any]
                }
            )
        }
    }

    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a version on labelled data and record the evaluation run."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var input: DataOptions
        @Argument(help: "Reference, e.g. sentiment@3.") var reference: String
        @Flag(
            help:
                "Also record the accuracy on every subset of the modalities (missing ones handled by the model's policy)."
        ) var subsets = false

        func run() async throws {
            let registry = try global.openRegistry(.write)
            let ref = try Fusebox.reference(reference)
            let model = try await registry.loadClassifier(ref)
            let data = try input.load(regression: model.spec.task == .regression, model: model.spec)
            if let notice = model.absentModalityNotice(for: data) { Terminal.err("Note: \(notice)") }
            let record = try await registry.evaluate(ref, on: data, subsets: subsets)
            switch global.format {
            case .json:
                try printJSON(
                    [
                        "model": record.model, "version": record.version, "run": record.run,
                        "dataset": record.datasetFingerprint,
                        "metrics": record.metrics.mapValues { jsonNumber($0) },
                    ] as [String: Any]
                )
            default:
                if global.format == .table {
                    Terminal.out(
                        Terminal.bold("\(record.model)@\(record.version)")
                            + " on \(data.count) samples (run \(record.run))"
                    )
                }
                try Listing(
                    columns: ["metric", "value"],
                    rows: record.metrics.sorted { $0.key < $1.key }.map { [Cell($0.key), .number($0.value)] }
                ).render(global.format, json: [])
            }
        }
    }
}
