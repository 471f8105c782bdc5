import ArgumentParser
import Foundation
import FuseboxCharts
import FusionCore
import RegistryJSON
import RegistryStore
import TensorIO

extension PromotionRequirement: ExpressibleByArgument {}
extension GateMetric: ExpressibleByArgument {}

extension Fusebox {
    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Compare two versions on the same samples: metrics side by side, McNemar's test, paired bootstrap intervals; recorded."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var input: DataOptions
        @Argument(help: "Version A (the baseline), e.g. sentiment@production.") var a: String
        @Argument(help: "Version B (the candidate), e.g. sentiment@4.") var b: String
        @Option(help: "Bootstrap resamples.") var bootstrap = 1000
        @Option(help: "Significance level.") var alpha = 0.05
        @Option(help: "Bootstrap seed.") var seed: UInt64 = 0
        @Option(help: "Also write a self-contained HTML report with SVG charts.") var html: String?
        @Flag(help: "Compare on data a version was trained or validated on (refused otherwise; recorded).")
        var allowTrainingData = false
        @Flag(help: "Overwrite an existing HTML report.") var force = false

        func validate() throws {
            guard bootstrap >= 1 else { throw ValidationError("--bootstrap must be 1 or more.") }
            guard alpha > 0 && alpha < 1 else { throw ValidationError("--alpha must be in (0, 1).") }
        }

        func run() async throws {
            if let html { try OutputFile.checkWritable(html, overwrite: force) }
            let registry = try global.openRegistry(.write)
            let (ra, rb) = (try Fusebox.reference(a), try Fusebox.reference(b))
            _ = try await registry.version(ra)
            _ = try await registry.version(rb)
            let data = try input.load()
            let record = try await registry.compare(
                ra,
                rb,
                on: data,
                alpha: alpha,
                resamples: bootstrap,
                seed: seed,
                allowTrainingData: allowTrainingData
            )
            try Fusebox.printComparison(record, classNames: data.classNames, format: global.format)
            if let html {
                let models = (try await registry.loadClassifier(ra), try await registry.loadClassifier(rb))
                try OutputFile.write(
                    text: Report.comparison(record, models: models, data: data),
                    toPath: html,
                    overwrite: force
                )
                Terminal.err("Wrote '\(html)'.")
            }
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move an alias to a version only if it passes an A/B gate against the alias's current target.",
            discussion:
                "The comparison is recorded with the alias event. --force moves it anyway and records the override. Exits 1 when the gate fails."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var input: DataOptions
        @Argument(help: "The candidate, e.g. sentiment@4.") var reference: String
        @Option(help: "The alias to move.") var alias = "production"
        @Option(help: "better: significantly better; not-worse: worse by less than --margin, with confidence 1 − α.")
        var require: PromotionRequirement = .better
        @Option(help: "What the gate judges: accuracy, macro_f1 or nll.") var metric: GateMetric = .accuracy
        @Option(help: "Non-inferiority margin for not-worse, in the metric's units (0.01 = one accuracy point).")
        var margin = 0.01
        @Option(help: "Significance level.") var alpha = 0.05
        @Option(help: "Bootstrap resamples.") var bootstrap = 1000
        @Option(help: "Bootstrap seed.") var seed: UInt64 = 0
        @Flag(help: "Move the alias even if the gate fails (recorded as forced).") var force = false
        @Flag(help: "Judge on data a version was trained or validated on (refused otherwise; recorded).")
        var allowTrainingData = false

        func validate() throws {
            guard alpha > 0 && alpha < 1 else { throw ValidationError("--alpha must be in (0, 1).") }
            guard margin >= 0 && margin.isFinite else {
                throw ValidationError("--margin must be 0 or more, got \(margin).")
            }
            guard bootstrap >= 1 else { throw ValidationError("--bootstrap must be 1 or more.") }
        }

        func run() async throws {
            let registry = try global.openRegistry(.write)
            let candidate = try Fusebox.reference(reference)
            _ = try await registry.version(candidate)
            let data = try input.load()
            let gate = PromotionGate(require, metric: metric, margin: margin, alpha: alpha)
            let outcome = try await registry.promote(
                candidate,
                alias: alias,
                data: data,
                gate: gate,
                resamples: bootstrap,
                seed: seed,
                force: force,
                allowTrainingData: allowTrainingData
            )
            if global.format == .json {
                try printJSON(encoding: PromotionJSON(outcome))
            } else if global.format == .csv {
                try Listing(
                    columns: ["passed", "forced", "moved", "to", "comparison", "explanation"],
                    rows: [
                        [
                            "\(outcome.passed)", "\(outcome.forced)", "\(outcome.event != nil)",
                            outcome.event?.toVersion.map(String.init) ?? "",
                            outcome.comparison.map { String($0.id) } ?? "", outcome.explanation,
                        ]
                    ]
                ).render(.csv, json: [])
            } else if let event = outcome.event {
                Terminal.out(
                    "\(Terminal.green("promoted")) \(event.model)@\(alias) → \(event.toVersion.map(String.init) ?? "?")\(outcome.forced ? " (forced)" : ""): \(outcome.explanation)"
                )
            }
            if outcome.event == nil {
                throw RegistryError(
                    .conflict,
                    "Not promoted: \(outcome.explanation). The comparison is recorded (run \(outcome.comparison?.run ?? 0)); --force overrides."
                )
            }
        }
    }

    static func printComparison(_ c: ComparisonRecord, classNames: [String]?, format: OutputFormat) throws {
        let s = c.statistics
        let keys = Array(Set(c.a.metrics.keys).intersection(c.b.metrics.keys)).sorted()
        func interval(_ i: BootstrapInterval) -> [String: Any] {
            ["estimate": i.estimate, "lower": i.lower, "upper": i.upper]
        }
        if format == .json {
            return try printJSON(
                [
                    "a": "\(c.a.model)@\(c.a.version)", "b": "\(c.b.model)@\(c.b.version)", "comparison": c.id,
                    "run": c.run, "dataset": c.a.datasetFingerprint,
                    "metrics": Dictionary(
                        uniqueKeysWithValues: keys.map {
                            ($0, ["a": jsonNumber(c.a.metrics[$0]), "b": jsonNumber(c.b.metrics[$0])])
                        }
                    ),
                    "mcnemar_p": s.mcnemarP, "mcnemar_method": s.mcnemarMethod,
                    "discordant": ["a_only": s.aOnlyCorrect, "b_only": s.bOnlyCorrect],
                    "bootstrap": [
                        "resamples": s.resamples, "seed": s.seed, "alpha": s.alpha,
                        "delta_accuracy": interval(s.deltaAccuracy),
                        "delta_macro_f1": interval(s.deltaMacroF1), "delta_nll": interval(s.deltaNLL),
                    ],
                    "per_class_f1": perClassF1(c), "verdict": s.verdict.rawValue,
                ] as [String: Any]
            )
        }
        let intervals = ["accuracy": s.deltaAccuracy, "macro_f1": s.deltaMacroF1, "nll": s.deltaNLL]
        let rows: [[Cell]] = keys.filter { !$0.contains("[") }.map { k in
            [
                Cell(k), .number(c.a.metrics[k]!), .number(c.b.metrics[k]!),
                .number(c.b.metrics[k]! - c.a.metrics[k]!, signed: true),
            ] + (format == .csv ? [.number(intervals[k]?.lower), .number(intervals[k]?.upper)] : [])
        }
        guard format == .table else {
            // CSV: ASCII headers, full precision, the bootstrap interval of B − A where there is one,
            // then McNemar's p and the verdict as rows of their own.
            let extra: [[Cell]] = [
                ["mcnemar_p", "", "", .number(s.mcnemarP), "", ""],
                ["verdict", "", "", Cell(s.verdict.rawValue), "", ""],
            ]
            return try Listing(columns: ["metric", "a", "b", "b_minus_a", "ci_lower", "ci_upper"], rows: rows + extra)
                .render(.csv, json: [])
        }
        try Listing(
            columns: ["metric", "A \(c.a.model)@\(c.a.version)", "B \(c.b.model)@\(c.b.version)", "B − A"],
            rows: rows
        ).render(.table, json: [])
        let f1 = perClassF1(c)
        Terminal.out(
            "\nper-class F1 (B − A): "
                + f1.indices.map {
                    "\(classNames?[safe: $0] ?? String($0)) \(String(format: "%+.3f", f1[$0]["b"]! - f1[$0]["a"]!))"
                }.joined(separator: "  ")
        )
        Terminal.out(
            String(
                format: "McNemar (%@): A-only correct %d, B-only correct %d, p = %.4g",
                s.mcnemarMethod,
                s.aOnlyCorrect,
                s.bOnlyCorrect,
                s.mcnemarP
            )
        )
        for (name, i) in [("Δaccuracy", s.deltaAccuracy), ("Δmacro-F1", s.deltaMacroF1), ("ΔNLL", s.deltaNLL)] {
            Terminal.out(
                String(
                    format: "%@ %+.4f  %.0f%% CI [%+.4f, %+.4f]  (%d resamples)",
                    name,
                    i.estimate,
                    (1 - s.alpha) * 100,
                    i.lower,
                    i.upper,
                    s.resamples
                )
            )
        }
        Terminal.out(
            "verdict: \(Terminal.bold(s.verdict.rawValue)) at α = \(s.alpha)  (comparison \(c.id), run \(c.run))"
        )
    }

    /// Per-class F1 of A and B from the stored predictions.
    static func perClassF1(_ c: ComparisonRecord) -> [[String: Double]] {
        zip(c.a.predictions.perClassF1(), c.b.predictions.perClassF1()).map { ["a": $0, "b": $1] }
    }
}
