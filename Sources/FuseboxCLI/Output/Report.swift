import Foundation
import FuseboxCharts
import FusionCore
import RegistryStore

/// The self-contained HTML report of `compare --html`: a summary table and inline SVG charts
/// (per-class F1, reliability diagram, both confusion matrices). No scripts, no external files.
enum Report {
    static func comparison(
        _ c: ComparisonRecord,
        models: (FusedClassifier, FusedClassifier),
        data: Dataset
    ) throws -> String {
        let s = c.statistics
        let names = data.classNames ?? (0..<data.classCount).map(String.init)
        let ma = ClassificationMetrics(probabilities: try models.0.predictProbabilities(data), labels: data.labels)
        let mb = ClassificationMetrics(probabilities: try models.1.predictProbabilities(data), labels: data.labels)
        let (la, lb) = ("A \(c.a.model)@\(c.a.version)", "B \(c.b.model)@\(c.b.version)")
        let f1 = SVG.groupedBars(
            title: "Per-class F1",
            yLabel: "F1",
            categories: names,
            series: [(la, ma.perClass.map(\.f1)), (lb, mb.perClass.map(\.f1))]
        )
        func points(_ m: ClassificationMetrics) -> [(Double, Double)] {
            m.reliability.filter { $0.count > 0 }.map { ($0.confidence, $0.accuracy) }
        }
        let reliability = SVG.lineChart(
            title: "Reliability diagram (\(ma.eceBins) bins)",
            xLabel: "confidence (top probability)",
            yLabel: "accuracy",
            series: [
                ("perfect calibration", [(0, 0), (1, 1)]), ("\(la), ECE \(String(format: "%.3f", ma.ece))", points(ma)),
                ("\(lb), ECE \(String(format: "%.3f", mb.ece))", points(mb)),
            ],
            yRange: 0...1
        )
        func confusion(_ m: ClassificationMetrics, _ label: String) -> String {
            SVG.heatMap(
                title: "Confusion matrix, \(label)",
                rowLabel: "true class",
                columnLabel: "predicted class",
                rows: names,
                columns: names,
                values: m.confusion.map { $0.map(Double.init) },
                format: "%.0f"
            )
        }
        let rows = [
            ("accuracy", ma.accuracy, mb.accuracy), ("balanced accuracy", ma.balancedAccuracy, mb.balancedAccuracy),
            ("macro F1", ma.macroF1, mb.macroF1),
            ("NLL", ma.nll, mb.nll), ("Brier", ma.brier, mb.brier), ("ECE", ma.ece, mb.ece),
        ].map {
            "<tr><td>\($0.0)</td><td>\(String(format: "%.4f", $0.1))</td><td>\(String(format: "%.4f", $0.2))</td><td>\(String(format: "%+.4f", $0.2 - $0.1))</td></tr>"
        }
        func ci(_ name: String, _ i: BootstrapInterval) -> String {
            "<tr><td>\(name)</td><td>\(String(format: "%+.4f", i.estimate))</td><td>[\(String(format: "%+.4f", i.lower)), \(String(format: "%+.4f", i.upper))]</td></tr>"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Fusebox comparison \(SVG.escape(la)) vs \(SVG.escape(lb))</title>
            <style>body{font-family:Helvetica,Arial,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}
            td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}.verdict{font-size:1.3em}
            figure{display:inline-block;margin:1em 1em 1em 0}</style></head><body>
            <h1>\(SVG.escape(la)) vs \(SVG.escape(lb))</h1>
            <p>\(data.count) samples, dataset \(c.a.datasetFingerprint.prefix(16))…; comparison \(c.id), run \(c.run).</p>
            <p class="verdict">Verdict at α = \(s.alpha): <strong>\(s.verdict.rawValue)</strong> — McNemar (\(s.mcnemarMethod)) p = \(String(format: "%.4g", s.mcnemarP)); A-only correct \(s.aOnlyCorrect), B-only correct \(s.bOnlyCorrect).</p>
            <table><tr><th>metric</th><th>\(SVG.escape(la))</th><th>\(SVG.escape(lb))</th><th>B − A</th></tr>\(rows.joined())</table>
            <table><tr><th>paired bootstrap (\(s.resamples) resamples, seed \(s.seed))</th><th>B − A</th><th>\(Int((1 - s.alpha) * 100))% interval</th></tr>
            \(ci("accuracy", s.deltaAccuracy))\(ci("macro F1", s.deltaMacroF1))\(ci("NLL", s.deltaNLL))</table>
            <figure>\(f1)</figure>
            <figure>\(reliability)</figure>
            <figure>\(confusion(ma, la))</figure>
            <figure>\(confusion(mb, lb))</figure>
            </body></html>
            """
    }
}
