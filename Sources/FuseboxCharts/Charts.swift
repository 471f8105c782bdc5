import FusionCore
import RegistryStore

/// The charts the commands draw.
public enum Charts {
    /// Per-modality weights as lines over epochs; per-class weights as a heat map of the last epoch.
    public static func weights(_ history: [WeightPoint], title: String, classNames: [String]?) -> String {
        let modalities = history.map(\.modality).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if history.contains(where: { $0.classIndex != nil }), let last = history.map(\.epoch).max() {
            let final = history.filter { $0.epoch == last }
            let classes = Set(final.compactMap(\.classIndex)).sorted()
            let values = modalities.map { m in
                classes.map { c in final.first { $0.modality == m && $0.classIndex == c }?.weight ?? 0 }
            }
            return SVG.heatMap(
                title: "\(title) (epoch \(last))",
                rowLabel: "modality",
                columnLabel: "class",
                rows: modalities,
                columns: classes.map { classNames?[safe: $0] ?? String($0) },
                values: values
            )
        }
        return SVG.lineChart(
            title: title,
            xLabel: "epoch",
            yLabel: "weight",
            series: modalities.map { m in (m, history.filter { $0.modality == m }.map { (Double($0.epoch), $0.weight) })
            },
            yRange: 0...1
        )
    }

    /// One line per metric over steps (losses and accuracies share the axis).
    public static func curves(_ histories: [String: [MetricPoint]], title: String) -> String {
        SVG.lineChart(
            title: title,
            xLabel: "epoch",
            yLabel: "value",
            series: histories.sorted { $0.key < $1.key }.filter { $0.value.count > 1 }.map {
                ($0.key, $0.value.map { (Double($0.step), $0.value) })
            }
        )
    }
}

extension Array {
    public subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
