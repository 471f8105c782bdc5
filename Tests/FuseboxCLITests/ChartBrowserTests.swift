import Foundation
import FuseboxTestSupport
import TensorCore
import TensorIO
import Testing

/// The HTML report and the SVG charts in a real browser: headless Chromium lays the labels out
/// and `scripts/check-chart-layout.py` checks, with the browser's own boxes, that none leaves its
/// chart and none overlaps another — with a long model name and 20 long class names.
struct ChartBrowserTests {
    static let available =
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") && Python.hasModule("selenium")

    @Test(
        .enabled(
            if: available || isCI,
            "needs chromium, chromium-driver and python3's selenium (.ci/run installs them)"
        )
    )
    func everyChartReadsCleanlyInABrowser() throws {
        try #require(Self.available, "CI=true but chromium, chromium-driver or selenium is missing")
        let dir = TemporaryDirectory()
        let (n, c) = (400, 20)
        var rng = TestRandom(seed: 5)
        let labels = (0..<n).map { _ in Int.random(in: 0..<c, using: &rng) }
        for (name, sharpness) in [("image", 3.0), ("text", 1.0)] {
            let rows = labels.map { label -> [Float] in
                let raw = (0..<c).map { k in exp(Double.random(in: 0...1, using: &rng) + (k == label ? sharpness : 0)) }
                return raw.map { Float($0 / raw.reduce(0, +)) }
            }
            try NumPyArray.write(Tensor(floats: rows.flatMap { $0 }, shape: [n, c]), toPath: dir.file("\(name).npy"))
        }
        try NumPyArray.write(Tensor(int32s: labels.map(Int32.init), shape: [n]), toPath: dir.file("labels.npy"))
        let classes = (0..<c).map { "a-rather-long-class-name-\($0)" }.joined(separator: ",")
        let data = [
            "--modality", "image=image.npy", "--modality", "text=text.npy", "--labels", "labels.npy", "--classes",
            classes,
        ]
        let model = "a-model-with-a-rather-long-name-for-a-fusion-head"
        _ = try ok(["train", model, "--method", "mean"] + data, dir)
        _ = try ok(["train", model, "--method", "class-weighted-average", "--val-split", "0.2"] + data, dir)
        _ = try ok(
            [
                "compare", "\(model)@1", "\(model)@2", "--html", "report.html", "--bootstrap", "100",
                "--allow-training-data",
            ] + data,
            dir
        )
        _ = try ok(["weights", "\(model)@2", "--svg", "weights.svg"], dir)
        _ = try ok(["runs", "show", "2", "--svg", "curves.svg"], dir)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let output = try Python.run(
            String(
                decoding: try Data(contentsOf: root.appendingPathComponent("scripts/check-chart-layout.py")),
                as: UTF8.self
            ),
            arguments: [dir.path] + ["report.html", "weights.svg", "curves.svg"].map(dir.file)
        )
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect((result["checked"] as? Int ?? 0) > 100, "\(result)")
        #expect((result["problems"] as? [String])?.isEmpty == true, "\(result["problems"] ?? [])")
        #expect(FileManager.default.fileExists(atPath: dir.file("report.html.png")))
    }
}
