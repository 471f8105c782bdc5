import Foundation
import FuseboxTestSupport
import TensorCore
import TensorIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The README's reference sections, checked against the binary so they cannot drift: every
/// command and option in the command table exists, every JSON shape has its keys, every command
/// honours each format it accepts, and the messages users meet point the right way.
@Suite(.serialized)
struct CLIPromisesTests {
    static let readme: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
    }()

    @Test func theVersionIsTheChangelogsLatestRelease() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let changelog = try String(contentsOf: root.appendingPathComponent("CHANGELOG.md"), encoding: .utf8)
        // The first "## [x.y.z] - date" heading (not "## [Unreleased]").
        let release = try #require(
            changelog.split(separator: "\n").first { $0.hasPrefix("## [") && !$0.hasPrefix("## [Unreleased]") }
        )
        let version = release.dropFirst(4).prefix { $0 != "]" }
        let dir = TemporaryDirectory()
        let printed = try FuseboxBinary.run(["--version"], in: dir.path)
        #expect(printed.status == 0)
        #expect(printed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == String(version))
    }

    /// The lines of a README section (from its heading to the next one of the same level).
    static func section(_ heading: String) -> [Substring] {
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0 == heading }) else { return [] }
        let level = heading.prefix { $0 == "#" }
        let end = lines[(start + 1)...].firstIndex { $0.hasPrefix(level + " ") } ?? lines.endIndex
        return Array(lines[(start + 1)..<end])
    }

    /// The code spans of a Markdown table row, in order.
    static func codeSpans(_ line: Substring) -> [String] {
        line.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map {
            String($0.element)
        }
    }

    /// A store with fuse@1 (text only), fuse@2 (image and text), a component, a promotion and held-out data.
    func prepared() throws -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        try prepare(Workspace(dir: dir, store: .sqlite, db: dir.file("fusebox.sqlite")))
        return dir
    }

    /// The workspace's store given what ``prepared()`` holds.
    func prepare(_ workspace: Workspace) throws {
        try WorkflowTests.writeData(in: workspace.dir, samples: 1500)
        _ = try workspace.ok(
            [
                "train", "fuse", "--modality", "text=text.npy", "--labels", "labels.npy", "--lr", "0.003", "--epochs",
                "3",
            ]
        )
        _ = try workspace.ok(["train", "fuse", "--data", "data.safetensors", "--split", "train"])
        _ = try workspace.ok(["export", "fuse@2", "-o", "fuse2.safetensors"])
        _ = try workspace.ok(["register", "cnn", "--weights", "fuse2.safetensors"])
        _ = try workspace.ok(["promote", "fuse@1", "--data", "data.safetensors", "--split", "test"])
    }

    @Test func everyCommandAndOptionInTheCommandTableExists() throws {
        let rows = Self.section("## Commands").filter { $0.hasPrefix("| `") }
        #expect(rows.count >= 15)
        for row in rows {
            let spans = Self.codeSpans(row)
            // The first cell's spans name commands (`alias set|delete|list`, `runs [list]`, `versions MODEL`).
            let firstCell = row.split(separator: "|")[0...1].joined()
            let commands = Self.codeSpans(Substring(firstCell)).map { span -> [String] in
                let words = span.split(separator: " ").map(String.init).filter {
                    $0.first?.isLowercase == true && !$0.hasPrefix("-")
                }
                let name = words.first.map { [$0] } ?? []
                let sub = words.dropFirst().first.map {
                    $0.replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: "")
                }
                return name + (sub.map { $0.split(separator: "|").map(String.init).prefix(1).map { $0 } } ?? [])
            }
            var help = ""
            for command in commands where !command.isEmpty {
                let r = try FuseboxBinary.run(command + ["--help"], in: NSTemporaryDirectory())
                #expect(r.status == 0, "\(command) --help: \(r.stderr)")
                help += r.stdout
            }
            for option in spans.flatMap({ $0.split(separator: " ") }).map(String.init) where option.hasPrefix("--") {
                let name = String(option.prefix { $0 != "=" && $0 != " " })
                #expect(help.contains(name), "\(row.prefix(40))…: \(name) is not an option of \(commands)")
            }
        }
    }

    @Test(arguments: TestStore.available)
    func everyJSONShapeInTheReadmeHasItsKeys(_ store: TestStore) async throws {
        try await store.withWorkspace { workspace in try everyJSONShapeHasItsKeys(workspace) }
    }

    func everyJSONShapeHasItsKeys(_ workspace: Workspace) throws {
        try prepare(workspace)
        let test = ["--data", "data.safetensors", "--split", "test", "--bootstrap", "100"]
        // How each documented command is run here.
        let invocations: [String: [String]] = [
            "train": ["train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "log-linear"],
            "weights": ["weights", "fuse@2"],
            "eval": ["eval", "fuse@2", "--data", "data.safetensors", "--split", "test"],
            "compare": ["compare", "fuse@1", "fuse@2"] + test, "promote": ["promote", "fuse@2"] + test,
            "versions": ["versions", "fuse"], "history": ["history", "fuse"], "verify": ["verify"],
            "gc": ["gc", "--dry-run"],
        ]
        for row in Self.section("## JSON output").filter({ $0.hasPrefix("| `") }) {
            let spans = Self.codeSpans(row)
            guard let command = spans.first, let arguments = invocations[command], spans.count >= 2 else { continue }
            let output = try JSONSerialization.jsonObject(
                with: Data(workspace.ok(arguments + ["--format", "json"]).stdout.utf8)
            )
            let present = Self.keys(of: output)
            // Documented keys are the quoted words followed by , : } or ] (values such as "validation"|"training" are not).
            let shape = spans[1]
            let documented = shape.matches(of: try Regex(#""([a-z_]+)"\s*[,:}\]]"#)).compactMap { match in
                match.output[1].substring.map(String.init)
            }
            #expect(!documented.isEmpty, "\(command)")
            for key in documented {
                #expect(
                    present.contains(key),
                    "README's \(command) shape has \"\(key)\"; the output has \(present.sorted())"
                )
            }
        }
    }

    static func keys(of value: Any) -> Set<String> {
        switch value {
        case let object as [String: Any]: Set(object.keys).union(object.values.flatMap { keys(of: $0) })
        case let array as [Any]: array.reduce(into: Set<String>()) { $0.formUnion(keys(of: $1)) }
        default: []
        }
    }

    @Test(arguments: TestStore.available)
    func everyCommandHonoursEachFormat(_ store: TestStore) async throws {
        try await store.withWorkspace { workspace in try everyCommandHonoursEachFormat(workspace) }
    }

    func everyCommandHonoursEachFormat(_ workspace: Workspace) throws {
        try prepare(workspace)
        let test = ["--data", "data.safetensors", "--split", "test"]
        let commands: [[String]] = [
            ["init"], ["models"], ["versions", "fuse"], ["show", "fuse@2"], ["predict", "fuse@2"] + test,
            ["eval", "fuse@2"] + test,
            ["compare", "fuse@1", "fuse@2", "--bootstrap", "100"] + test, ["runs"], ["runs", "show", "2"],
            ["weights", "fuse@2"],
            ["alias", "list"], ["alias", "list", "fuse"], ["history", "fuse"], ["verify"], ["gc", "--dry-run"],
        ]
        for command in commands {
            let json = try workspace.ok(command + ["--format", "json"])
            #expect(
                (try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) != nil,
                "\(command) json: \(json.stdout.prefix(200))"
            )
            let csv = try workspace.ok(command + ["--format", "csv"]).stdout
            let lines = csv.split(separator: "\n")
            #expect(!csv.hasPrefix("{") && !csv.hasPrefix("["), "\(command) csv printed JSON")
            #expect(lines.first?.allSatisfy { $0.isASCII } == true, "\(command) csv header: \(lines.first ?? "")")
            #expect(lines.first?.contains(",") == true, "\(command) csv: \(csv.prefix(200))")
        }
        // Commands that act print JSON and CSV too (`backup` is a store file's: PostgreSQL has pg_dump).
        let backups: [[String]] = workspace.store == .sqlite ? [["backup", "c.sqlite"], ["backup", "d.sqlite"]] : []
        let acting: [[String]] =
            [["export", "fuse@2", "-o", "a.safetensors"], ["export", "fuse@2", "-o", "b.safetensors"]] + backups
            + [["alias", "set", "fuse@2", "staging"], ["alias", "set", "fuse", "staging", "1"]]
        for (i, command) in acting.enumerated() {
            let format = i % 2 == 0 ? "json" : "csv"
            let out = try workspace.ok(command + ["--format", format]).stdout
            if format == "json" {
                #expect((try? JSONSerialization.jsonObject(with: Data(out.utf8))) != nil, "\(command): \(out)")
            } else {
                #expect(out.split(separator: "\n").count == 2 && !out.hasPrefix("{"), "\(command): \(out)")
            }
        }
        // CSV keeps full precision (a p-value of 1e-30 is not 0.0000) and says B − A in ASCII.
        let compare = try workspace.ok(["compare", "fuse@1", "fuse@2", "--bootstrap", "100", "--format", "csv"] + test)
            .stdout
        #expect(compare.hasPrefix("metric,a,b,b_minus_a,ci_lower,ci_upper\n"))
        let p = try #require(
            compare.split(separator: "\n").first { $0.hasPrefix("mcnemar_p,") }?.split(
                separator: ",",
                omittingEmptySubsequences: false
            )[3]
        )
        #expect(Double(p).map { $0 > 0 && $0 < 1e-6 } == true, "mcnemar_p \(p)")
    }

    @Test(arguments: TestStore.available)
    func everyQueryExampleInTheReadmeRuns(_ store: TestStore) async throws {
        try await store.withWorkspace { workspace in try everyQueryExampleRuns(workspace) }
    }

    func everyQueryExampleRuns(_ workspace: Workspace) throws {
        try prepare(workspace)
        let lines = Self.section("## Run queries")
        let start = try #require(lines.firstIndex { $0.hasPrefix("```") })
        let end = try #require(lines[(start + 1)...].firstIndex { $0.hasPrefix("```") })
        let examples = lines[(start + 1)..<end].map { line in
            String(line.split(separator: "#", maxSplits: 1)[0]).trimmingCharacters(in: .whitespaces)
        }
        #expect(examples.count >= 4)
        for query in examples {
            let r = try workspace.run(["runs", "--where", query, "--format", "json"])
            #expect(
                r.status == 0 && (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) is [Any],
                "\(query): \(r.stderr)"
            )
        }
    }

    /// The README's metric conventions, recomputed here from their definitions on data whose fused
    /// probabilities are known (the mean of two modalities), against what `eval` reports.
    @Test func metricConventionsAreWhatTheReadmeSays() throws {
        let conventions = Self.section("## JSON output").joined(separator: " ")
        #expect(
            conventions.contains("clipped at 1e-15") && conventions.contains("15 equal-width")
                && conventions.contains("(0 to 2)")
        )
        let dir = TemporaryDirectory()
        let (n, c) = (300, 3)
        var rng = TestRandom(seed: 11)
        func probabilities() -> [[Double]] {
            (0..<n).map { _ in
                let raw = (0..<c).map { _ in Double.random(in: 0.01...1, using: &rng) }
                return raw.map { $0 / raw.reduce(0, +) }
            }
        }
        let (a, b) = (probabilities(), probabilities())
        let labels = (0..<n).map { _ in Int.random(in: 0..<c, using: &rng) }
        for (name, rows) in [("a", a), ("b", b)] {
            try NumPyArray.write(
                Tensor(floats: rows.flatMap { $0.map(Float.init) }, shape: [n, c]),
                toPath: dir.file("\(name).npy")
            )
        }
        try NumPyArray.write(Tensor(int32s: labels.map(Int32.init), shape: [n]), toPath: dir.file("y.npy"))
        let data = ["--modality", "a=a.npy", "--modality", "b=b.npy", "--labels", "y.npy"]
        _ = try ok(["train", "m", "--method", "mean"] + data, dir)
        let eval = try #require(
            try FuseboxBinary.json(ok(["eval", "m@1", "--format", "json"] + data, dir)) as? [String: Any]
        )
        let metrics = try #require(eval["metrics"] as? [String: Double])
        // The fused probabilities, as Float32 rows averaged (what the binary computes), then the definitions.
        let p = (0..<n).map { i in (0..<c).map { k in (Double(Float(a[i][k])) + Double(Float(b[i][k]))) / 2 } }
        var nll = 0.0
        var brier = 0.0
        var count = [Int](repeating: 0, count: 15)
        var correct = [Int](repeating: 0, count: 15)
        var confidence = [Double](repeating: 0, count: 15)
        for i in 0..<n {
            nll -= log(max(p[i][labels[i]], 1e-15)) / Double(n)
            for k in 0..<c {
                let target: Double = k == labels[i] ? 1 : 0
                brier += (p[i][k] - target) * (p[i][k] - target) / Double(n)
            }
            let top = p[i].max()!
            let bin = min(14, Int(top * 15))
            count[bin] += 1
            correct[bin] += p[i].firstIndex(of: top)! == labels[i] ? 1 : 0
            confidence[bin] += top
        }
        var ece = 0.0
        for bin in 0..<15 where count[bin] > 0 {
            let accuracy = Double(correct[bin]) / Double(count[bin])
            ece += Double(count[bin]) / Double(n) * abs(accuracy - confidence[bin] / Double(count[bin]))
        }
        #expect(abs(metrics["nll"]! - nll) < 1e-5, "nll \(metrics["nll"]!) vs \(nll)")
        #expect(abs(metrics["brier"]! - brier) < 1e-5, "brier \(metrics["brier"]!) vs \(brier)")
        #expect(abs(metrics["ece"]! - ece) < 1e-5, "ece \(metrics["ece"]!) vs \(ece)")
    }

    @Test(arguments: TestStore.available)
    func paramsAreStoredAsTheUserGaveThem(_ store: TestStore) async throws {
        try await store.withWorkspace { workspace in
            try prepare(workspace)
            let runs =
                try FuseboxBinary.json(workspace.ok(["runs", "--where", "params.lr = 0.003", "--format", "json"]))
                as? [[String: Any]]
            #expect(runs?.count == 1)
            #expect((runs?.first?["params"] as? [String: String])?["lr"] == "0.003")
        }
    }

    @Test(arguments: TestStore.available)
    func usageErrorsAreOneLineNamingTheArgumentAndExit64(_ store: TestStore) async throws {
        try await store.withWorkspace { workspace in try usageErrorsAreOneLine(workspace) }
    }

    func usageErrorsAreOneLine(_ workspace: Workspace) throws {
        try prepare(workspace)
        let cases: [([String], String)] = [
            (["show", "sentiment@0"], "'sentiment@0' is not a version"),
            (
                ["predict", "fuse@2", "--data", "data.safetensors", "--split", "test", "-o", "preds.txt"],
                "-o takes a .npy or .csv file"
            ),
            (
                ["train", "x", "--data", "data.safetensors", "--split", "train", "--lr", "-1"],
                "--lr must be positive, got -1"
            ),
            (["train", "x", "--modality", "image=image.npy:logit", "--labels", "labels.npy"], "Unknown kind 'logit'"),
            (
                ["train", "x", "--data", "data.safetensors", "--split", "train", "--method", "magic"],
                "'magic' is invalid for '--method"
            ),
            (
                [
                    "train", "x", "--data", "data.safetensors", "--split", "train", "--method", "weighted-average",
                    "--hidden", "8",
                ],
                "--hidden applies to concat-mlp"
            ),
            (
                ["train", "x", "--data", "data.safetensors", "--split", "train", "--method", "mean", "--epochs", "10"],
                "--epochs does nothing for mean"
            ),
            (["alias", "set", "fuse@2", "production", "3"], "Give the version once"),
        ]
        for (arguments, fragment) in cases {
            let before = workspace.snapshot()
            let r = try workspace.run(arguments)
            let lines = r.stderr.split(separator: "\n")
            #expect(r.status == 64, "\(arguments): exit \(r.status): \(r.stderr)")
            #expect(
                lines.count == 1 && lines[0].hasPrefix("Error: ") && r.stderr.contains(fragment),
                "\(arguments): \(r.stderr)"
            )
            #expect(workspace.snapshot() == before)
        }
    }

    /// A reader that has gone (`fusebox runs | head`) ends the command as SIGPIPE ends any Unix
    /// tool — no crash report, nothing on stderr — and the store keeps what was committed.
    @Test func aClosedPipeEndsTheCommandQuietly() throws {
        let dir = TemporaryDirectory()
        _ = try ok(["init"], dir)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FuseboxBinary.path)
        process.arguments = ["models", "--format", "json", "--db", "fusebox.sqlite"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        let out = Pipe()
        try out.fileHandleForReading.close()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGPIPE, "\(errors)")
        #expect(errors.isEmpty, "\(errors)")
        _ = try ok(["verify"], dir)
    }

    @Test func messagesPointTheRightWay() throws {
        let dir = try prepared()
        // The store option before the command, as users type it.
        #expect(
            try ok(["--db", "fusebox.sqlite", "versions", "fuse", "--format", "json"], dir).stdout.contains(
                "\"version\""
            )
        )
        // Class names that do not match the data's width say so.
        let classes = try FuseboxBinary.run(
            ["train", "x", "--modality", "image=image.npy", "--labels", "labels.npy", "--classes", "a,b,c"],
            in: dir.path
        )
        #expect(
            classes.stderr.contains("3 class names were given (--classes) but the data has 10 classes"),
            "\(classes.stderr)"
        )
        // A NumPy file given as weights is named as what it is.
        let weights = try FuseboxBinary.run(["register", "bert", "--weights", "labels.npy"], in: dir.path)
        #expect(
            weights.stderr.contains("is not a safetensors file: it looks like a NumPy array (.npy)"),
            "\(weights.stderr)"
        )
        // Prediction with ragged modalities does not talk about labels it never takes.
        try Data(try Data(contentsOf: URL(fileURLWithPath: dir.file("image.npy")))).write(
            to: URL(fileURLWithPath: dir.file("copy.npy"))
        )
        let short = try FuseboxBinary.run(
            ["eval", "fuse@2", "--modality", "image=image.npy", "--modality", "text=labels.npy"],
            in: dir.path
        )
        #expect(short.status != 0)
        // Without class names, a prediction is the class index, not p9.
        let predicted =
            try FuseboxBinary.json(
                ok(["predict", "fuse@2", "--data", "data.safetensors", "--split", "test", "--format", "json"], dir)
            ) as? [[String: Any]]
        #expect(predicted?.first?["predicted"] is Int)
        // Training says which data its metrics are from.
        let trained = try ok(
            ["train", "fuse", "--data", "data.safetensors", "--split", "train", "--val-split", "0"],
            dir
        ).stdout
        #expect(trained.contains("On the training data (") && trained.contains("no validation split"), "\(trained)")
        let validated = try ok(
            ["train", "fuse", "--data", "data.safetensors", "--split", "train", "--val-split", "0.2"],
            dir
        ).stdout
        #expect(validated.contains("On the validation data ("), "\(validated)")
        // A parameter-free method records no epochs.
        let mean =
            try FuseboxBinary.json(
                ok(
                    [
                        "train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "mean",
                        "--format", "json",
                    ],
                    dir
                )
            ) as? [String: Any]
        #expect(mean?["epochs"] as? Int == 0)
        // String labels with --classes are mapped to indices; an unknown one is named.
        let names = (0..<10).map { "c\($0)" }
        let labels =
            try FuseboxBinary.json(
                ok(["predict", "fuse@2", "--data", "data.safetensors", "--split", "train", "--format", "json"], dir)
            ) as? [[String: Any]]
        let text = "label\n" + (labels ?? []).map { names[$0["predicted"] as? Int ?? 0] }.joined(separator: "\n") + "\n"
        try text.write(toFile: dir.file("names.csv"), atomically: true, encoding: .utf8)
        let image = ["--modality", "image=image.npy", "--modality", "text=text.npy"]
        _ = try ok(["train", "named", "--labels", "names.csv", "--classes", names.joined(separator: ",")] + image, dir)
        try (text + "bird\n").write(toFile: dir.file("bad-names.csv"), atomically: true, encoding: .utf8)
        let bad = try FuseboxBinary.run(
            ["train", "named", "--labels", "bad-names.csv", "--classes", names.joined(separator: ",")] + image,
            in: dir.path
        )
        #expect(bad.stderr.contains("label 'bird' at row"), "\(bad.stderr)")
    }
}
