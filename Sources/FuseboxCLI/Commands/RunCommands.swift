import ArgumentParser
import Foundation
import FuseboxCharts
import FusionCore
import RegistryJSON
import RegistryStore
import TensorIO

extension Fusebox {
    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List and inspect training, evaluation and comparison runs.",
            subcommands: [List.self, Show.self, Delete.self, Restore.self],
            defaultSubcommand: List.self
        )
    }

    struct Weights: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The fusion weights of a version's training run, per epoch."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Reference, e.g. sentiment@production.") var reference: String
        @Option(help: "Also draw them as SVG: a line per modality, or a heat map (final epoch) for per-class weights.")
        var svg: String?
        @Flag(help: "Overwrite an existing SVG file.") var force = false

        func run() async throws {
            if let svg { try OutputFile.checkWritable(svg, overwrite: force) }
            let registry = try global.openRegistry(.read)
            let version = try await registry.version(Fusebox.reference(reference))
            guard let run = version.trainingRun else {
                throw RegistryError(.notFound, "\(version.reference) has no training run, so no weight history.")
            }
            let history = try await registry.fusionWeightHistory(run: run)
            try Listing(
                columns: ["epoch", "modality", "class", "weight"],
                rows: history.map {
                    [
                        // Classes by name, as the heat map shows them, when the version has names.
                        Cell(String($0.epoch)), Cell($0.modality),
                        Cell($0.classIndex.map { version.spec?.classNames?[safe: $0] ?? String($0) } ?? "-"),
                        .number($0.weight),
                    ]
                }
            ).render(
                global.format,
                json: history.map {
                    [
                        "epoch": $0.epoch, "modality": $0.modality, "class": $0.classIndex as Any? ?? NSNull(),
                        "weight": $0.weight,
                    ] as [String: Any]
                }
            )
            if let svg {
                let names = version.spec?.classNames
                try OutputFile.write(
                    text: Charts.weights(history, title: "Fusion weights of \(version.reference)", classNames: names),
                    toPath: svg,
                    overwrite: force
                )
                Terminal.err("Wrote '\(svg)'.")
            }
        }
    }
}

extension Fusebox.Runs {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Runs, filtered with --where and ordered with --order-by.",
            discussion: """
                --where: metrics.KEY (latest value), max(metrics.KEY), min(metrics.KEY), params.KEY, tags.KEY, model, version, kind,
                status, created, id; operators = != < <= > >= like; and, or, not, parentheses; 'quoted' text.
                Example: --where "metrics.val_accuracy > 0.9 and (params.method = 'weighted-average' or tags.team = 'vision')"
                """
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only runs of this model.") var model: String?
        @Option(name: .customLong("where"), help: "Filter expression.") var filter: String?
        @Option(help: "FIELD [asc|desc], e.g. 'metrics.val_accuracy desc'.") var orderBy: String?
        @Option(help: "At most this many runs.") var limit = 100

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be 1 or more.") }
        }

        func run() async throws {
            let runs = try await global.openRegistry(.read).searchRuns(
                model: model,
                where: filter,
                orderBy: orderBy,
                limit: limit
            )
            let keys = ["val_accuracy", "accuracy", "val_loss", "mcnemar_p"]
            try Listing(
                columns: ["run", "kind", "status", "model", "version", "method", "started", "by"] + keys,
                rows: runs.map { r -> [Cell] in
                    let text: [String] = [
                        String(r.id), r.kind.rawValue, r.status.rawValue, r.model ?? "-",
                        r.version.map(String.init) ?? "-", r.params["method"] ?? "-", isoDate(r.startedAt),
                        r.principal ?? "-",
                    ]
                    return text.map { Cell($0) } + keys.map { Cell.number(r.metrics[$0]) }
                }
            ).render(global.format, encoding: runs.map(RunJSON.init))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One run: params, tags, metrics; --svg draws its training curves."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Run id.") var id: Int64
        @Option(help: "Draw the metric curves as SVG.") var svg: String?
        @Flag(help: "Overwrite an existing SVG file.") var force = false

        func run() async throws {
            if let svg { try OutputFile.checkWritable(svg, overwrite: force) }
            let registry = try global.openRegistry(.read)
            let run = try await registry.run(id)
            let histories = try await registry.metricHistories(run: id)
            if global.format == .json {
                try printJSON(encoding: RunWithHistoryJSON(run: run, histories: histories))
            } else if global.format == .csv {
                var rows: [[Cell]] = [
                    ["id", "", Cell(String(run.id))], ["kind", "", Cell(run.kind.rawValue)],
                    ["status", "", Cell(run.status.rawValue)],
                    ["model", "", Cell(run.model ?? "")], ["version", "", Cell(run.version.map(String.init) ?? "")],
                    ["started", "", Cell(isoDate(run.startedAt))], ["ended", "", Cell(run.endedAt.map(isoDate) ?? "")],
                    ["principal", "", Cell(run.principal ?? "")], ["failure", "", Cell(run.failure ?? "")],
                ]
                rows += run.params.sorted { $0.key < $1.key }.map { ["param", Cell($0.key), Cell($0.value)] }
                rows += run.tags.sorted { $0.key < $1.key }.map { ["tag", Cell($0.key), Cell($0.value)] }
                rows += run.metrics.sorted { $0.key < $1.key }.map { ["metric", Cell($0.key), .number($0.value)] }
                try Listing(columns: ["field", "key", "value"], rows: rows).render(.csv, json: [])
            } else {
                Terminal.out(
                    Terminal.bold("run \(run.id)")
                        + "  \(run.kind.rawValue)  \(run.status.rawValue)  \(run.model.map { "\($0)\(run.version.map { "@\($0)" } ?? "")" } ?? "")"
                )
                Terminal.out(
                    "started \(isoDate(run.startedAt))" + (run.endedAt.map { "  ended \(isoDate($0))" } ?? "")
                        + (run.principal.map { "  by \($0)" } ?? "")
                )
                if let failure = run.failure { Terminal.out(Terminal.red("failed: \(failure)")) }
                for (k, v) in run.params.sorted(by: { $0.key < $1.key }) { Terminal.out("param \(k) = \(v)") }
                for (k, v) in run.tags.sorted(by: { $0.key < $1.key }) { Terminal.out("tag \(k) = \(v)") }
                Terminal.out(
                    Listing(
                        columns: ["metric", "latest", "steps"],
                        rows: run.metrics.sorted { $0.key < $1.key }.map {
                            [Cell($0.key), .number($0.value), Cell(String(histories[$0.key]?.count ?? 0))]
                        }
                    ).table()
                )
            }
            if let svg {
                try OutputFile.write(text: Charts.curves(histories, title: "Run \(id)"), toPath: svg, overwrite: force)
                Terminal.err("Wrote '\(svg)'.")
            }
        }
    }
}

extension Fusebox.Runs {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a run (hidden from listings; 'runs restore' brings it back until 'gc' purges it).",
            discussion:
                "Refused for a running run, a version's training run, and the evidence behind recorded comparisons and promotions."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Run id.") var id: Int64

        func run() async throws {
            try await global.openRegistry(.write).deleteRun(id)
            try printDone(
                "Deleted run \(id); 'fusebox runs restore \(id)' brings it back until 'fusebox gc' purges it.",
                ["deleted_run": id],
                format: global.format
            )
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring back a deleted run that 'gc' has not purged.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Run id.") var id: Int64

        func run() async throws {
            try await global.openRegistry(.write).restoreRun(id)
            try printDone("Restored run \(id).", ["restored_run": id], format: global.format)
        }
    }
}
