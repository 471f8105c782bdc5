import Foundation
import RegistryStore

/// Small, self-contained SVG charts (no scripts, no external fonts): line charts, heat maps and
/// grouped bars, each with a title, labelled axes and a legend.
public enum SVG {
    public static let palette = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    ]

    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">",
            with: "&gt;"
        )
        .replacingOccurrences(of: "\"", with: "&quot;")
    }

    public static func document(width: Int, height: Int, _ body: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        \(body)
        </svg>
        """
    }

    public static func fmt(_ x: Double) -> String { String(format: "%.1f", x) }

    /// The width a label takes at 12 px Helvetica or Arial, generously (7 px a character), so a
    /// layout that fits by this measure fits in a browser.
    public static func textWidth(_ s: String, fontSize: Double = 12) -> Double { Double(s.count) * fontSize * 7 / 12 }

    /// About five round tick values covering `lo...hi` (steps of 1, 2 or 5 × 10ⁿ), with the decimals
    /// their step needs and no more.
    public static func niceTicks(_ lo: Double, _ hi: Double) -> [(value: Double, label: String)] {
        let raw = (hi - lo) / 5
        guard raw > 0, raw.isFinite else { return [(lo, formatNumber(lo))] }
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let decimals = max(0, -Int(floor(log10(step))))
        var ticks: [(Double, String)] = []
        var v = ceil(lo / step - 1e-9) * step
        while v <= hi + step * 1e-9 {
            ticks.append((v, String(format: "%.\(decimals)f", v == 0 ? 0 : v)))
            v += step
        }
        return ticks
    }

    /// Lines of `(x, y)` points with axes, ticks and a legend.
    public static func lineChart(
        title: String,
        xLabel: String,
        yLabel: String,
        series: [(name: String, points: [(Double, Double)])],
        yRange: ClosedRange<Double>? = nil
    ) -> String {
        // The legend sits right of the plot; the chart widens so the longest name fits.
        let legend = 34 + (series.map { textWidth($0.name) }.max() ?? 0) + 10
        let (plot, h, left, top, bottom) = (506.0, 420.0, 64.0, 40.0, 50.0)
        let right = max(150, legend)
        let w = max(left + plot + right, 20 + textWidth(title, fontSize: 15))
        let xs = series.flatMap { $0.points.map(\.0) }
        let ys = series.flatMap { $0.points.map(\.1) }
        guard let xMin = xs.min(), let xMax = xs.max(), let yLo = ys.min(), let yHi = ys.max() else {
            return document(width: Int(w), height: Int(h), "<text x=\"20\" y=\"30\">\(escape(title)): no data</text>")
        }
        var y0 = yRange?.lowerBound ?? yLo
        var y1 = yRange?.upperBound ?? yHi
        if y1 - y0 < 1e-9 {
            y0 -= 0.5
            y1 += 0.5
        }
        let pad = yRange == nil ? (y1 - y0) * 0.05 : 0
        y0 -= pad
        y1 += pad
        let x1 = xMax > xMin ? xMax : xMin + 1
        func px(_ x: Double) -> Double { left + (x - xMin) / (x1 - xMin) * (w - left - right) }
        func py(_ y: Double) -> Double { h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom) }
        var body =
            "<text x=\"10\" y=\"24\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        body +=
            "<line x1=\"\(fmt(left))\" y1=\"\(fmt(h - bottom))\" x2=\"\(fmt(w - right))\" y2=\"\(fmt(h - bottom))\" stroke=\"#333\"/>\n"
        body +=
            "<line x1=\"\(fmt(left))\" y1=\"\(fmt(top))\" x2=\"\(fmt(left))\" y2=\"\(fmt(h - bottom))\" stroke=\"#333\"/>\n"
        for i in 0...4 {
            let y = y0 + (y1 - y0) * Double(i) / 4
            body +=
                "<line x1=\"\(fmt(left))\" y1=\"\(fmt(py(y)))\" x2=\"\(fmt(w - right))\" y2=\"\(fmt(py(y)))\" stroke=\"#eee\"/>"
            body +=
                "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(py(y) + 4))\" text-anchor=\"end\">\(String(format: "%.3g", y))</text>\n"
        }
        // Round ticks, not the data's x values (bin centres at four decimals collide).
        for (x, label) in niceTicks(xMin, x1) {
            body +=
                "<text x=\"\(fmt(px(x)))\" y=\"\(fmt(h - bottom + 20))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        body +=
            "<text x=\"\(fmt((left + w - right) / 2))\" y=\"\(fmt(h - 12))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        body +=
            "<text transform=\"translate(16 \(fmt((top + h - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (i, s) in series.enumerated() {
            let color = palette[i % palette.count]
            let path = s.points.map { "\(fmt(px($0.0))),\(fmt(py($0.1)))" }.joined(separator: " ")
            body += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            for p in s.points {
                body += "<circle cx=\"\(fmt(px(p.0)))\" cy=\"\(fmt(py(p.1)))\" r=\"2.5\" fill=\"\(color)\"/>"
            }
            let ly = top + 10 + Double(i) * 20
            body +=
                "\n<rect x=\"\(fmt(w - right + 16))\" y=\"\(fmt(ly - 9))\" width=\"12\" height=\"12\" fill=\"\(color)\"/>"
            body += "<text x=\"\(fmt(w - right + 34))\" y=\"\(fmt(ly + 1))\">\(escape(s.name))</text>\n"
        }
        return document(width: Int(w), height: Int(h), body)
    }

    /// A heat map of `values[row][column]` in [lo, hi] (white → blue), each cell labelled.
    public static func heatMap(
        title: String,
        rowLabel: String,
        columnLabel: String,
        rows: [String],
        columns: [String],
        values: [[Double]],
        format: String = "%.2f"
    ) -> String {
        let cell = 44.0
        // Row names fit left of the grid; column names longer than a cell are turned 45°.
        let left = max(110, 30 + (rows.map { textWidth($0) }.max() ?? 0))
        let longestColumn = columns.map { textWidth($0) }.max() ?? 0
        let turned = longestColumn > cell - 4
        let top = 60.0
        // A turned label runs right as far as it runs down (cos 45° of its length).
        let lastLabelEnd = left + cell * (Double(columns.count) - 0.5) + (turned ? longestColumn * 0.71 + 10 : 0)
        let w = max(left + cell * Double(columns.count) + 30, lastLabelEnd, 20 + textWidth(title, fontSize: 15))
        let h = top + cell * Double(rows.count) + (turned ? 30 + longestColumn * 0.71 : 50)
        let flat = values.flatMap { $0 }
        let lo = flat.min() ?? 0
        let hi = max(flat.max() ?? 1, lo + 1e-12)
        var body = "<text x=\"10\" y=\"24\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        body +=
            "<text x=\"\(fmt(left + cell * Double(columns.count) / 2))\" y=\"44\" text-anchor=\"middle\">\(escape(columnLabel))</text>\n"
        body +=
            "<text transform=\"translate(14 \(fmt(top + cell * Double(rows.count) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(rowLabel))</text>\n"
        for (j, c) in columns.enumerated() {
            let (x, y) = (left + cell * (Double(j) + 0.5), top + cell * Double(rows.count) + 16)
            body +=
                turned
                ? "<text transform=\"translate(\(fmt(x)) \(fmt(y))) rotate(45)\" text-anchor=\"start\">\(escape(c))</text>"
                : "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"middle\">\(escape(c))</text>"
        }
        for (i, r) in rows.enumerated() {
            body +=
                "\n<text x=\"\(fmt(left - 6))\" y=\"\(fmt(top + cell * (Double(i) + 0.5) + 4))\" text-anchor=\"end\">\(escape(r))</text>"
            for j in columns.indices {
                let v = values[i][j]
                let t = (v - lo) / (hi - lo)
                let shade = Int(255 - t * 200)
                let color = String(format: "#%02x%02x%02x", shade, shade, 255)
                body +=
                    "<rect x=\"\(fmt(left + cell * Double(j)))\" y=\"\(fmt(top + cell * Double(i)))\" width=\"\(fmt(cell))\" height=\"\(fmt(cell))\" fill=\"\(color)\" stroke=\"white\"/>"
                body +=
                    "<text x=\"\(fmt(left + cell * (Double(j) + 0.5)))\" y=\"\(fmt(top + cell * (Double(i) + 0.5) + 4))\" text-anchor=\"middle\" fill=\"\(t > 0.6 ? "white" : "black")\" font-size=\"10\">\(String(format: format, v))</text>"
            }
        }
        return document(width: Int(w), height: Int(h), body)
    }

    /// Grouped bars: for each category, one bar per series, values in [0, 1].
    public static func groupedBars(
        title: String,
        yLabel: String,
        categories: [String],
        series: [(name: String, values: [Double])]
    ) -> String {
        let (left, top) = (60.0, 40.0)
        let group = 18.0 * Double(series.count) + 14
        // Category names wider than a group are turned 45°; the legend widens the chart to fit.
        let longest = categories.map { textWidth($0) }.max() ?? 0
        let turned = longest > group - 4
        let bottom = turned ? 30 + longest * 0.71 : 50
        let legend = 38 + (series.map { textWidth($0.name) }.max() ?? 0) + 10
        let w = max(
            left + group * Double(categories.count) + max(150, legend),
            left + group * (Double(categories.count) - 0.5) + (turned ? longest * 0.71 + 10 : 0),
            20 + textWidth(title, fontSize: 15)
        )
        let h = 310 + bottom
        func py(_ y: Double) -> Double { h - bottom - y * (h - top - bottom) }
        var body = "<text x=\"10\" y=\"24\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        for i in 0...4 {
            let y = Double(i) / 4
            body +=
                "<line x1=\"\(fmt(left))\" y1=\"\(fmt(py(y)))\" x2=\"\(fmt(left + group * Double(categories.count)))\" y2=\"\(fmt(py(y)))\" stroke=\"#eee\"/>"
            body +=
                "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(py(y) + 4))\" text-anchor=\"end\">\(String(format: "%.2f", y))</text>\n"
        }
        body +=
            "<text transform=\"translate(16 \(fmt((top + h - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (c, name) in categories.enumerated() {
            let x0 = left + group * Double(c) + 7
            for (s, serie) in series.enumerated() {
                let v = max(0, min(1, serie.values[c]))
                body +=
                    "<rect x=\"\(fmt(x0 + 18 * Double(s)))\" y=\"\(fmt(py(v)))\" width=\"16\" height=\"\(fmt(py(0) - py(v)))\" fill=\"\(palette[s % palette.count])\"><title>\(escape(serie.name)) \(escape(name)): \(String(format: "%.3f", serie.values[c]))</title></rect>"
            }
            let (x, y) = (x0 + 9 * Double(series.count), h - bottom + 16)
            body +=
                turned
                ? "<text transform=\"translate(\(fmt(x)) \(fmt(y))) rotate(45)\" text-anchor=\"start\">\(escape(name))</text>\n"
                : "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"middle\">\(escape(name))</text>\n"
        }
        for (s, serie) in series.enumerated() {
            let lx = left + group * Double(categories.count) + 20
            body +=
                "<rect x=\"\(fmt(lx))\" y=\"\(fmt(top + 20 * Double(s)))\" width=\"12\" height=\"12\" fill=\"\(palette[s % palette.count])\"/>"
            body += "<text x=\"\(fmt(lx + 18))\" y=\"\(fmt(top + 20 * Double(s) + 10))\">\(escape(serie.name))</text>\n"
        }
        return document(width: Int(w), height: Int(h), body)
    }
}
