import Foundation
import FuseboxTestSupport
import FusionCore
import TensorCore
import TensorIO
import Testing

/// The second layer: the built `fusebox` binary, run in a temporary folder, through every command.
@Suite(.serialized)
struct WorkflowTests {
    /// Writes the demo generator's data as .npy files and as one safetensors bundle with splits.
    static func writeData(in dir: TemporaryDirectory, samples: Int = 1500) throws {
        let (train, test) = try SyntheticData.imageText(samples: samples, seed: 3)
        try NumPyArray.write(Tensor(train.modality("image")!.values), toPath: dir.file("image.npy"))
        try NumPyArray.write(Tensor(train.modality("text")!.values), toPath: dir.file("text.npy"))
        try NumPyArray.write(
            try Tensor(
                dtype: .int64,
                shape: [train.count],
                bytes: train.labels.flatMap { withUnsafeBytes(of: Int64($0).littleEndian, Array.init) }
            ),
            toPath: dir.file("labels.npy")
        )
        var tensors: [(name: String, tensor: Tensor)] = []
        for (split, data) in [("train", train), ("test", test)] {
            for m in data.modalities { tensors.append(("\(split).\(m.name)", Tensor(m.values))) }
            tensors.append(("\(split).labels", Tensor(int32s: data.labels.map { Int32($0) }, shape: [data.count])))
        }
        try SafetensorsWriter.write(tensors, toPath: dir.file("data.safetensors"))
    }

    func object(_ r: CLIResult) throws -> [String: Any] { try #require(try FuseboxBinary.json(r) as? [String: Any]) }
    func array(_ r: CLIResult) throws -> [[String: Any]] { try #require(try FuseboxBinary.json(r) as? [[String: Any]]) }

    /// The README's workflow, command by command, on a store file and on a PostgreSQL database
    /// (`FUSEBOX_DB`): every command means the same on both.
    @Test(arguments: TestStore.available)
    func theWholeWorkflowFromTheReadme(_ store: TestStore) async throws {
        let dir = TemporaryDirectory()
        try await store.withStore(in: dir) { db in
            let env = ["FUSEBOX_DB": db]
            try Self.writeData(in: dir)
            let testData = ["--data", "data.safetensors", "--split", "test"]
            #expect(try ok(["init"], dir, environment: env).stdout.contains("is ready"))

            // train from one .npy per modality, and from a bundle with splits
            let t1 = try object(
                ok(
                    [
                        "train", "fuse", "--modality", "image=image.npy", "--modality", "text=text.npy:probs",
                        "--labels",
                        "labels.npy", "--epochs", "5", "--lr", "0.05", "--format", "json",
                    ],
                    dir,
                    environment: env
                )
            )
            #expect(Set(t1.keys).isSuperset(of: ["model", "version", "run", "metrics", "weights"]))
            #expect(t1["version"] as? Int == 1)
            let weights = try #require(t1["weights"] as? [[String: Any]])
            #expect(weights.map { $0["modality"] as? String } == ["image", "text"])
            #expect((weights[0]["weight"] as! Double) > (weights[1]["weight"] as! Double))  // image is the reliable one
            let t2 = try object(
                ok(
                    [
                        "train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "concat-mlp",
                        "--hidden", "16", "--epochs", "3", "--format", "json",
                    ],
                    dir,
                    environment: env
                )
            )
            #expect(t2["version"] as? Int == 2)
            #expect(
                try ok(
                    [
                        "train", "fuse", "--data", "data.safetensors", "--split", "train", "--method",
                        "class-weighted-average", "--epochs", "2",
                    ],
                    dir,
                    environment: env
                ).stdout.contains("fuse@3 registered")
            )

            let versions = try array(ok(["versions", "fuse", "--format", "json"], dir, environment: env))
            #expect(versions.map { $0["version"] as? Int } == [3, 2, 1])
            #expect(Set(versions[0].keys).isSuperset(of: ["version", "created", "aliases", "metrics"]))
            #expect(
                try object(ok(["show", "fuse@1", "--format", "json"], dir, environment: env))["method"] as? String
                    == "weighted-average"
            )
            #expect(
                try ok(["models", "--format", "csv"], dir, environment: env).stdout.hasPrefix(
                    "model,kind,versions,latest,aliases,created\nfuse,fused,3,3,"
                )
            )

            // predict (no labels needed) and evaluate
            _ = try ok(
                [
                    "predict", "fuse@1", "--modality", "image=image.npy", "--modality", "text=text.npy", "-o",
                    "preds.csv",
                ],
                dir,
                environment: env
            )
            #expect(try String(contentsOfFile: dir.file("preds.csv"), encoding: .utf8).hasPrefix("predicted,p0,"))
            let eval = try object(
                ok(["eval", "fuse@1"] + testData + ["--format", "json", "--subsets"], dir, environment: env)
            )
            #expect(eval["model"] as? String == "fuse" && eval["version"] as? Int == 1)
            let metrics = try #require(eval["metrics"] as? [String: Any])
            #expect(metrics["accuracy"] is Double && metrics["accuracy[image]"] is Double && metrics["ece"] is Double)
            // concat-mlp reads every modality together: with one missing it refuses instead of guessing.
            let refused = try FuseboxBinary.run(
                ["eval", "fuse@2", "--subsets"] + testData,
                in: dir.path,
                environment: env
            )
            #expect(
                refused.status == 1 && refused.stderr.contains("concat-mlp needs every modality"),
                "\(refused.stderr)"
            )
            let noted = try FuseboxBinary.run(
                ["predict", "fuse@1", "--modality", "image=image.npy", "--format", "csv"],
                in: dir.path,
                environment: env
            )
            #expect(noted.stderr.contains("Note: modality 'text' is missing; with weighted-average the weights"))
            #expect(noted.stderr.contains("of the modalities present are renormalised"))
            #expect(noted.stdout.hasPrefix("sample,predicted,p0,"))

            // compare, with the HTML report
            let comparison = try object(
                ok(
                    ["compare", "fuse@1", "fuse@2"] + testData + [
                        "--bootstrap", "200", "--format", "json", "--html", "report.html",
                    ],
                    dir,
                    environment: env
                )
            )
            #expect(Set(comparison.keys).isSuperset(of: ["a", "b", "metrics", "mcnemar_p", "bootstrap", "verdict"]))
            #expect(comparison["a"] as? String == "fuse@1")
            let report = try String(contentsOfFile: dir.file("report.html"), encoding: .utf8)
            #expect(
                report.contains("<svg") && report.contains("Reliability diagram") && report.contains("Confusion matrix")
                    && report.contains("Per-class F1")
            )

            // promote through the gate, force past it, roll back
            #expect(try ok(["promote", "fuse@1"] + testData, dir, environment: env).stdout.contains("production → 1"))
            let forced = try object(
                ok(
                    ["promote", "fuse@3", "--require", "better", "--force", "--bootstrap", "100", "--format", "json"]
                        + testData,
                    dir,
                    environment: env
                )
            )
            #expect(forced["moved"] as? Bool == true && forced["comparison"] is Int)
            let history = try array(ok(["history", "fuse", "--format", "json"], dir, environment: env))
            #expect(history.first?["to"] as? Int == 3)
            #expect(history.last?["action"] as? String == "set")
            #expect(try ok(["rollback", "fuse"], dir, environment: env).stdout.contains("3 → 1"))
            #expect(
                try ok(["alias", "list", "fuse", "--format", "csv"], dir, environment: env).stdout.contains(
                    "production,1,"
                )
            )

            // weights per epoch, charts, runs
            let w = try array(ok(["weights", "fuse@1", "--format", "json", "--svg", "w.svg"], dir, environment: env))
            #expect(
                w.count == 10 && w.allSatisfy { $0["class"] is NSNull }
                    && Set(w.compactMap { $0["epoch"] as? Int }) == Set(1...5)
            )
            #expect(try String(contentsOfFile: dir.file("w.svg"), encoding: .utf8).contains("<polyline"))
            let perClass = try array(
                ok(["weights", "fuse@3", "--format", "json", "--svg", "c.svg"], dir, environment: env)
            )
            #expect(perClass.count == 2 * 2 * 10 && perClass.allSatisfy { $0["class"] is Int })
            let runs = try array(
                ok(
                    ["runs", "--where", "params.method = 'concat-mlp' and kind = 'training'", "--format", "json"],
                    dir,
                    environment: env
                )
            )
            #expect(runs.count == 1)
            let runID = try #require(runs.first?["id"] as? Int)
            _ = try ok(["runs", "show", String(runID), "--svg", "curves.svg"], dir, environment: env)
            #expect(try String(contentsOfFile: dir.file("curves.svg"), encoding: .utf8).contains("val_loss"))

            // components: register, export byte-identical, never overwrite without --force
            try SafetensorsWriter.write(
                [("conv", Tensor(floats: (0..<1000).map(Float.init), shape: [10, 100]))],
                metadata: [.init(key: "arch", value: "cnn")],
                toPath: dir.file("cnn.safetensors")
            )
            _ = try ok(
                ["register", "cnn", "--weights", "cnn.safetensors", "--tag", "team=vision"],
                dir,
                environment: env
            )
            _ = try ok(["export", "cnn@1", "-o", "cnn-out.safetensors"], dir, environment: env)
            #expect(
                try SHA256Hex.ofFile(atPath: dir.file("cnn-out.safetensors"))
                    == SHA256Hex.ofFile(atPath: dir.file("cnn.safetensors"))
            )
            let again = try FuseboxBinary.run(
                ["export", "cnn@1", "-o", "cnn-out.safetensors"],
                in: dir.path,
                environment: env
            )
            #expect(again.status == 1 && again.stderr.contains("--force"))

            // maintenance
            #expect(try ok(["verify"], dir, environment: env).stdout.contains("integrity_check: ok"))
            if store == .sqlite {
                _ = try ok(["backup", "copy.sqlite"], dir, environment: env)
                #expect(try FuseboxBinary.run(["backup", "copy.sqlite"], in: dir.path, environment: env).status == 1)
            } else {
                // A database is backed up with pg_dump; a copy to a file is what `backup` makes of a file.
                let refused = try FuseboxBinary.run(["backup", "copy.sqlite"], in: dir.path, environment: env)
                #expect(refused.status == 1 && refused.stderr.contains("pg_dump"), "\(refused.stderr)")
                _ = try ok(["copy", "--from", db, "--to", "copy.sqlite"], dir, environment: env)
            }
            #expect(
                try ok(["models", "--db", "copy.sqlite", "--format", "json"], dir, environment: env).stdout.contains(
                    "\"fuse\""
                )
            )
            #expect(
                try ok(["gc", "--dry-run"], dir, environment: env).stdout.contains(
                    "Would purge 0 deleted runs and remove 0 unreferenced tensor blobs"
                )
            )
            #expect(
                try FuseboxBinary.run(["models"], in: dir.path, environment: ["FUSEBOX_DB": "copy.sqlite"]).stdout
                    .contains(
                        "cnn"
                    )
            )
        }
    }
}
