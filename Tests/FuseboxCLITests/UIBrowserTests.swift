import Foundation
import FuseboxTestSupport
import Testing

/// The web UI in a real browser: `fusebox serve` as a process, headless Chromium driven by
/// Selenium through `scripts/check-ui.py` (sign in, search runs, sort, open a version and its
/// weight chart, see a promotion made through the API in the history, markup shown as text,
/// phone width). Screenshots go to `.build/ui-screenshots/` (not committed).
struct UIBrowserTests {
    @Test(
        .enabled(
            if: ChartBrowserTests.available || isCI,
            "needs chromium, chromium-driver and python3's selenium (.ci/run installs them)"
        )
    )
    func aPersonCanSignInSearchInspectAndSeeAPromotion() async throws {
        try #require(ChartBrowserTests.available, "CI=true but chromium, chromium-driver or selenium is missing")
        let (dir, read, _) = try ServeTests.prepared()
        let write = try ok(["token", "create", "trainer", "--scope", "write"], dir).stdout.trimmingCharacters(
            in: .newlines
        )
        let server = try ServeTests.Server(dir)
        defer { _ = server.stop() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = try String(contentsOf: root.appendingPathComponent("scripts/check-ui.py"), encoding: .utf8)
        let output = try Python.run(
            script,
            arguments: [
                "http://127.0.0.1:\(server.port)", read, write, "fuse",
                root.appendingPathComponent(".build/ui-screenshots").path,
            ]
        )
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
            "check-ui.py printed \(output)"
        )
        #expect((report["checks"] as? Int ?? 0) >= 20)
        #expect(report["problems"] as? [String] == [], "\(report["problems"] ?? [])")
    }
}
