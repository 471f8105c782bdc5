import Foundation
import FuseboxCharts
import FusionCore
import Hummingbird
import RegistryJSON
import RegistryStore
import TensorCore

/// The web UI: models, a model (versions, aliases, the alias history with its evidence), a
/// version (lineage, metrics, fusion weights per epoch, download), the runs explorer (query,
/// sortable columns, paging), a run (metric curves), a comparison (the A/B report). Every page
/// needs only the read scope; sign-in is by token (``SessionRoutes``).
struct UIRoutes {
    let registry: Registry

    func add(to router: Router<ServerContext>) {
        router.get("/", use: models)
        router.get("models/:model", use: model)
        router.get("models/:model/versions/:ref", use: version)
        router.get("runs", use: runs)
        router.get("runs/:id", use: run)
        router.get("comparisons/:id", use: comparison)
    }

    static let headlineMetrics = ["val_accuracy", "val_macro_f1", "val_nll"]

    @Sendable func models(_ request: Request, context: ServerContext) async throws -> Response {
        let rows = try await registry.models().map { m in
            [
                HTML.link("/models/\(HTML.component(m.name))", m.name), m.kind.rawValue, "\(m.versionCount)",
                m.latestVersion.map { String($0) } ?? "–",
                HTML.escape(
                    m.aliases.sorted { $0.key < $1.key }.map { "\($0.key) → \($0.value)" }.joined(separator: ", ")
                ),
                isoDate(m.createdAt),
            ]
        }
        return HTML.page(
            "Models",
            "<h1>Models</h1>"
                + HTML.table(["model", "kind", "versions", "latest", "aliases", "created"], rows, id: "models"),
            token: context.token
        )
    }

    @Sendable func model(_ request: Request, context: ServerContext) async throws -> Response {
        let name = try context.parameters.require("model")
        let summary = try await registry.model(name)
        let versions = try await registry.versions(of: name)
        let events = try await registry.aliasEvents(of: name)
        let base = "/models/\(HTML.component(name))"
        let versionRows = versions.map { v in
            [
                HTML.link("\(base)/versions/\(v.number)", "\(v.number)"), isoDate(v.createdAt),
                HTML.escape(v.spec?.method.rawValue ?? v.kind.rawValue), HTML.escape(v.aliases.joined(separator: ", ")),
                HTML.escape(v.principal ?? "–"),
            ]
                + Self.headlineMetrics.map { key in v.metrics[key].map(formatNumber) ?? "–" }
        }
        let aliasRows = summary.aliases.sorted { $0.key < $1.key }.map {
            [HTML.escape($0.key), HTML.link("\(base)/versions/\($0.value)", "\($0.value)")]
        }
        let timeline = events.map { e -> String in
            let move = "\(e.fromVersion.map(String.init) ?? "–") → \(e.toVersion.map(String.init) ?? "–")"
            let evidence =
                e.comparison.map { " · evidence: " + HTML.link("/comparisons/\($0)", "comparison \($0)") } ?? ""
            return """
                <li><strong>\(HTML.escape(e.alias))</strong> \(e.action.rawValue)\(e.forced ? " (forced)" : "") \(move)\(evidence)<br>
                <span class="muted">\(isoDate(e.createdAt)) by \(HTML.escape(e.principal ?? "–"))</span>\(e.reason.isEmpty ? "" : "<br>" + HTML.escape(e.reason))</li>
                """
        }
        let body = """
            <h1>\(HTML.escape(name)) <span class="muted">\(summary.kind.rawValue)</span></h1>
            \(summary.description.isEmpty ? "" : "<p>\(HTML.escape(summary.description))</p>")
            <h2>Aliases</h2>\(HTML.table(["alias", "version"], aliasRows, id: "aliases"))
            <h2>Versions</h2>\(HTML.table(["version", "created", "method", "aliases", "by"] + Self.headlineMetrics.map { "<span class=\"num\">\($0)</span>" }, versionRows, id: "versions"))
            <h2>Alias history</h2>\(timeline.isEmpty ? "<p class=\"empty\">No alias has been set.</p>" : "<ul class=\"timeline\" id=\"history\">\(timeline.joined(separator: "\n"))</ul>")
            """
        return HTML.page(name, body, token: context.token)
    }

    @Sendable func version(_ request: Request, context: ServerContext) async throws -> Response {
        let v = try await registry.version(context.reference())
        let base = "/models/\(HTML.component(v.model))"
        var lineage: [(String, String)] = []
        if let run = v.trainingRun { lineage.append(("training run", HTML.link("/runs/\(run)", "run \(run)"))) }
        lineage += v.datasets.sorted { $0.key < $1.key }.map {
            ("dataset \(HTML.escape($0.key))", "<code>\(HTML.escape($0.value))</code>")
        }
        lineage += v.components.sorted { $0.key < $1.key }.map { component, reference in
            let parts = reference.split(separator: "@", maxSplits: 1).map(String.init)
            let href =
                parts.count == 2
                ? "/models/\(HTML.component(parts[0]))/versions/\(HTML.component(parts[1]))"
                : "/models/\(HTML.component(reference))"
            return ("component \(HTML.escape(component))", HTML.link(href, reference))
        }
        lineage.append(("registered by", HTML.escape(v.principal ?? "–")))
        var chart = "<p class=\"empty\">No fusion weights were recorded for this version.</p>"
        if let run = v.trainingRun {
            let history = try await registry.fusionWeightHistory(run: run)
            if !history.isEmpty {
                chart =
                    "<figure id=\"weights-chart\">"
                    + Charts.weights(history, title: "Fusion weights per epoch", classNames: v.spec?.classNames)
                    + "</figure>"
            }
        }
        let modalities = (v.spec?.modalities ?? []).map { m in
            [
                HTML.escape(m.name), m.kind.rawValue, "\(m.width)",
                HTML.escape(v.spec.map { VersionJSON.branchDescription(m, of: $0) } ?? ""),
            ]
        }
        let body = """
            <h1>\(HTML.link(base, v.model))@\(v.number) <span class="muted">\(HTML.escape(v.spec?.method.rawValue ?? v.kind.rawValue))</span></h1>
            <p>Created \(isoDate(v.createdAt))\(v.aliases.isEmpty ? "" : " · aliases " + HTML.escape(v.aliases.joined(separator: ", "))) ·
            <a id="download" href="/api/v1/models/\(HTML.component(v.model))/versions/\(v.number)/weights">Download weights (.safetensors)</a></p>
            <h2>Lineage</h2><dl>\(lineage.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined())</dl>
            <h2>Metrics</h2>\(HTML.table(["metric", "<span class=\"num\">value</span>"], v.metrics.sorted { $0.key < $1.key }.map { [HTML.escape($0.key), "<span class=\"num\">\(formatNumber($0.value))</span>"] }, id: "metrics"))
            <h2>Fusion weights</h2>\(chart)
            \(modalities.isEmpty ? "" : "<h2>Modalities</h2>" + HTML.table(["modality", "kind", "width", "branch"], modalities))
            <h2>Tags</h2>\(HTML.table(["tag", "value"], v.tags.sorted { $0.key < $1.key }.map { [HTML.escape($0.key), HTML.escape($0.value)] }))
            <h2>Tensors</h2>\(HTML.table(["tensor", "dtype", "shape", "sha256"], v.tensors.map { [HTML.escape($0.name), $0.dtype.rawValue, "\($0.shape.dimensions)", "<code>\($0.sha256.prefix(16))…</code>"] }))
            """
        return HTML.page(v.reference, body, token: context.token)
    }

    @Sendable func runs(_ request: Request, context: ServerContext) async throws -> Response {
        let query = request.query("where") ?? ""
        let order = request.query("order_by")
        let limit = try request.query("limit", in: 1...1000, default: 50)
        let offset = try request.query("page_token", in: 0...1_000_000, default: 0)
        var found: [RunSummary] = []
        var problem: String?
        do {
            found = try await registry.searchRuns(
                where: query.isEmpty ? nil : query,
                orderBy: order,
                limit: offset + limit + 1
            )
        } catch let error as RegistryError where error.code == .invalidInput {
            problem = error.message
        }
        let page = Array(found.dropFirst(offset).prefix(limit))
        // The headline metrics first, then others by name: eight columns at most.
        let logged = Set(page.flatMap { $0.metrics.keys })
        let metricKeys = Array(
            (Self.headlineMetrics.filter(logged.contains) + logged.subtracting(Self.headlineMetrics).sorted()).prefix(8)
        )
        func href(order: String?, offset: Int) -> String {
            var items = ["limit=\(limit)"]
            if !query.isEmpty { items.append("where=\(HTML.component(query))") }
            if let order { items.append("order_by=\(HTML.component(order))") }
            if offset > 0 { items.append("page_token=\(offset)") }
            return "/runs?" + items.joined(separator: "&")
        }
        /// A column header that sorts by `field`, descending first, then toggles.
        func sortable(_ label: String, _ field: String) -> String {
            let descending = "\(field) desc"
            let next = order == descending ? "\(field) asc" : descending
            let mark = order == descending ? " ↓" : order == "\(field) asc" ? " ↑" : ""
            return
                "<a class=\"sort\" href=\"\(HTML.escape(href(order: next, offset: 0)))\">\(HTML.escape(label))\(mark)</a>"
        }
        let rows = page.map { r in
            [
                HTML.link("/runs/\(r.id)", "\(r.id)"),
                r.model.map { HTML.link("/models/\(HTML.component($0))", $0) } ?? "–",
                r.version.map(String.init) ?? "–", r.kind.rawValue, r.status.rawValue, isoDate(r.startedAt),
                HTML.escape(r.principal ?? "–"),
            ]
                + metricKeys.map { key in "<span class=\"num\">\(r.metrics[key].map(formatNumber) ?? "–")</span>" }
        }
        let headers =
            [
                sortable("id", "id"), sortable("model", "model"), sortable("version", "version"),
                sortable("kind", "kind"),
                sortable("status", "status"), sortable("started", "created"), "by",
            ]
            + metricKeys.map { sortable($0, "metrics.\($0)") }
        var paging: [String] = []
        if offset > 0 {
            paging.append(HTML.link(href(order: order, offset: max(0, offset - limit)), "← Previous page"))
        }
        if found.count > offset + limit {
            paging.append(
                "<a id=\"next-page\" href=\"\(HTML.escape(href(order: order, offset: offset + limit)))\">Next page →</a>"
            )
        }
        let body = """
            <h1>Runs</h1>
            <form class="query" method="get" action="/runs">
            <input type="text" name="where" id="query" value="\(HTML.escape(query))" placeholder="metrics.val_accuracy > 0.9 and params.method = 'weighted-average'" aria-label="query">
            \(order.map { "<input type=\"hidden\" name=\"order_by\" value=\"\(HTML.escape($0))\">" } ?? "")
            <input type="submit" value="Search">
            </form>
            \(problem.map { "<p class=\"error\" id=\"query-error\">\(HTML.escape($0))</p>" } ?? "")
            <p class="muted">Runs \(page.isEmpty ? 0 : offset + 1)–\(offset + page.count)\(found.count > offset + limit ? " and more" : "").</p>
            \(HTML.table(headers, rows, id: "runs"))
            <p class="paging">\(paging.joined(separator: " "))</p>
            """
        return HTML.page("Runs", body, token: context.token, status: problem == nil ? .ok : .badRequest)
    }

    @Sendable func run(_ request: Request, context: ServerContext) async throws -> Response {
        let id = try context.id("id")
        let r = try await registry.run(id)
        let histories = try await registry.metricHistories(run: id)
        let weights = try await registry.fusionWeightHistory(run: id)
        var facts: [(String, String)] = [
            ("kind", r.kind.rawValue), ("status", r.status.rawValue), ("started", isoDate(r.startedAt)),
        ]
        if let ended = r.endedAt { facts.append(("ended", isoDate(ended))) }
        if let failure = r.failure { facts.append(("failure", HTML.escape(failure))) }
        if let model = r.model {
            facts.append(("model", HTML.link("/models/\(HTML.component(model))", model)))
            if let version = r.version {
                facts.append(
                    (
                        "version",
                        HTML.link("/models/\(HTML.component(model))/versions/\(version)", "\(model)@\(version)")
                    )
                )
            }
        }
        facts.append(("by", HTML.escape(r.principal ?? "–")))
        let curves =
            histories.values.contains { $0.count > 1 }
            ? "<figure id=\"curves-chart\">" + Charts.curves(histories, title: "Run \(id)") + "</figure>"
            : "<p class=\"empty\">No metric has more than one step.</p>"
        let body = """
            <h1>Run \(id)</h1>
            <dl>\(facts.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined())</dl>
            <h2>Metric curves</h2>\(curves)
            \(weights.isEmpty ? "" : "<h2>Fusion weights</h2><figure>" + Charts.weights(weights, title: "Fusion weights per epoch", classNames: nil) + "</figure>")
            <h2>Metrics (latest)</h2>\(HTML.table(["metric", "value"], r.metrics.sorted { $0.key < $1.key }.map { [HTML.escape($0.key), formatNumber($0.value)] }, id: "metrics"))
            <h2>Params</h2>\(HTML.table(["param", "value"], r.params.sorted { $0.key < $1.key }.map { [HTML.escape($0.key), HTML.escape($0.value)] }, id: "params"))
            <h2>Tags</h2>\(HTML.table(["tag", "value"], r.tags.sorted { $0.key < $1.key }.map { [HTML.escape($0.key), HTML.escape($0.value)] }))
            """
        return HTML.page("Run \(id)", body, token: context.token)
    }

    @Sendable func comparison(_ request: Request, context: ServerContext) async throws -> Response {
        let c = try await registry.comparison(context.id("id"))
        let s = c.statistics
        let (la, lb) = ("A \(c.a.model)@\(c.a.version)", "B \(c.b.model)@\(c.b.version)")
        let classes = (0..<c.a.predictions.classCount).map(String.init)
        func confusion(_ p: SamplePredictions, _ label: String) -> String {
            var counts = [[Double]](repeating: [Double](repeating: 0, count: p.classCount), count: p.classCount)
            for (t, y) in zip(p.labels, p.predictedClasses) where t < p.classCount && y < p.classCount {
                counts[t][y] += 1
            }
            return "<figure>"
                + SVG.heatMap(
                    title: "Confusion matrix, \(label)",
                    rowLabel: "true class",
                    columnLabel: "predicted class",
                    rows: classes,
                    columns: classes,
                    values: counts,
                    format: "%.0f"
                ) + "</figure>"
        }
        let metricRows = Set(c.a.metrics.keys).intersection(c.b.metrics.keys).sorted().map { key in
            [
                HTML.escape(key), formatNumber(c.a.metrics[key]!), formatNumber(c.b.metrics[key]!),
                String(format: "%+.4f", c.b.metrics[key]! - c.a.metrics[key]!),
            ]
        }
        func interval(_ name: String, _ i: BootstrapInterval) -> [String] {
            [name, String(format: "%+.4f", i.estimate), String(format: "[%+.4f, %+.4f]", i.lower, i.upper)]
        }
        let body = """
            <h1>Comparison \(c.id): \(HTML.link("/models/\(HTML.component(c.a.model))/versions/\(c.a.version)", la)) vs \(HTML.link("/models/\(HTML.component(c.b.model))/versions/\(c.b.version)", lb))</h1>
            <p class="verdict" id="verdict">Verdict at α = \(s.alpha): <strong>\(s.verdict.rawValue)</strong> — McNemar (\(HTML.escape(s.mcnemarMethod))) p = \(String(format: "%.4g", s.mcnemarP)); A-only correct \(s.aOnlyCorrect), B-only correct \(s.bOnlyCorrect).</p>
            <p class="muted">\(s.sampleCount) samples, dataset <code>\(c.a.datasetFingerprint.prefix(16))…</code>; run \(HTML.link("/runs/\(c.run)", "\(c.run)")); \(isoDate(c.createdAt)).</p>
            <h2>Metrics</h2>\(HTML.table(["metric", HTML.escape(la), HTML.escape(lb), "B − A"], metricRows, id: "metrics"))
            <h2>Paired bootstrap (\(s.resamples) resamples, seed \(s.seed))</h2>
            \(HTML.table(["", "B − A", "\(Int((1 - s.alpha) * 100))% interval"], [interval("accuracy", s.deltaAccuracy), interval("macro F1", s.deltaMacroF1), interval("NLL", s.deltaNLL)]))
            \(confusion(c.a.predictions, la))\(confusion(c.b.predictions, lb))
            """
        return HTML.page("Comparison \(c.id)", body, token: context.token)
    }
}
