import Foundation
import FusionCore
import Testing

@testable import FuseboxCharts
@testable import RegistryStore

/// Every chart at the size it is drawn, with long model names and 20 classes: no label leaves the
/// canvas and no two labels on one line overlap (measured at 7 px a character, wider than
/// Helvetica's or Arial's 12 px average).
struct ChartLayoutTests {
    /// A `<text>` element: its anchor point, alignment and content (turned labels are left out: they
    /// run diagonally, away from their neighbours).
    struct Label {
        let x: Double
        let y: Double
        let anchor: String
        let text: String
        let fontSize: Double
        var extent: ClosedRange<Double> {
            let width = SVG.textWidth(text, fontSize: fontSize)
            switch anchor {
            case "middle": return (x - width / 2)...(x + width / 2)
            case "end": return (x - width)...x
            default: return x...(x + width)
            }
        }
    }

    static func labels(_ svg: String) throws -> (width: Double, labels: [Label]) {
        let width = try #require(svg.firstMatch(of: /<svg[^>]* width="([0-9.]+)"/).flatMap { Double($0.output.1) })
        let labels = svg.matches(of: /<text x="([-0-9.]+)" y="([-0-9.]+)"([^>]*)>([^<]*)<\/text>/).map { m in
            let attributes = String(m.output.3)
            let anchor = attributes.firstMatch(of: /text-anchor="(\w+)"/).map { String($0.output.1) } ?? "start"
            let size = attributes.firstMatch(of: /font-size="([0-9.]+)"/).flatMap { Double($0.output.1) } ?? 12
            return Label(
                x: Double(m.output.1)!,
                y: Double(m.output.2)!,
                anchor: anchor,
                text: String(m.output.4),
                fontSize: size
            )
        }
        return (width, labels)
    }

    func expectReadable(_ svg: String, _ name: String) throws {
        let (width, labels) = try Self.labels(svg)
        #expect(labels.count > 3, "\(name)")
        for label in labels {
            #expect(
                label.extent.lowerBound >= 0 && label.extent.upperBound <= width,
                "\(name): '\(label.text)' leaves the \(width) px canvas"
            )
        }
        for (i, a) in labels.enumerated() {
            for b in labels[(i + 1)...] where abs(a.y - b.y) < 8 && a.extent.overlaps(b.extent) {
                Issue.record("\(name): '\(a.text)' and '\(b.text)' overlap")
            }
        }
    }

    @Test func everyChartFitsWithLongNamesAndTwentyClasses() throws {
        let classes = (0..<20).map { "class-with-a-long-name-\($0)" }
        let model = "a-model-with-a-rather-long-name-for-a-fusion-head"
        // The reliability diagram: 15 bins' centres at four decimals, and long legend entries.
        let bins = (0..<15).map { (Double($0) + 0.5) / 15 }
        try expectReadable(
            SVG.lineChart(
                title: "Reliability diagram (15 bins)",
                xLabel: "confidence (top probability)",
                yLabel: "accuracy",
                series: [
                    ("perfect calibration", [(0, 0), (1, 1)]),
                    ("A \(model)@12, ECE 0.031", bins.map { ($0, $0 * 0.9) }),
                    ("B \(model)@13, ECE 0.012", bins.map { ($0, $0) }),
                ],
                yRange: 0...1
            ),
            "reliability"
        )
        try expectReadable(
            SVG.groupedBars(
                title: "Per-class F1",
                yLabel: "F1",
                categories: classes,
                series: [("A \(model)@12", classes.map { _ in 0.5 }), ("B \(model)@13", classes.map { _ in 0.7 })]
            ),
            "per-class F1"
        )
        try expectReadable(
            SVG.heatMap(
                title: "Confusion matrix, A \(model)@12",
                rowLabel: "true class",
                columnLabel: "predicted class",
                rows: classes,
                columns: classes,
                values: classes.map { _ in classes.map { _ in 3 } },
                format: "%.0f"
            ),
            "confusion"
        )
        // Training curves over 2,000 L-BFGS iterations.
        let curve = (1...2000).map { MetricPoint(key: "train_loss", step: $0, value: 1 / Double($0)) }
        try expectReadable(
            Charts.curves(["train_loss": curve, "val_loss": curve], title: "Run 1234 of \(model)"),
            "curves"
        )
    }

    @Test func niceTicksAreRoundAndShort() {
        #expect(SVG.niceTicks(0.0333, 0.9667).map(\.label) == ["0.2", "0.4", "0.6", "0.8"])
        #expect(SVG.niceTicks(0, 1).map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(SVG.niceTicks(1, 2000).map(\.label) == ["500", "1000", "1500", "2000"])
    }
}
