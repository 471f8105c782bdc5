import Foundation
import FuseboxTestSupport
import FusionCore
import TensorCore
import TensorIO
import Testing

/// A model whose modalities are all `features`, through the binary: cross-fitted branches are
/// recorded, shown, exported and predict without labels; files in different orders align by id.
@Suite(.serialized)
struct FeatureModalityTests {
    static func writeViews(in dir: TemporaryDirectory) throws -> (train: Int, test: Int) {
        let all = try featureViews(samples: 500, views: 2, width: 6, classes: 3, seed: 21)
        for (split, range) in [("train", 0..<400), ("test", 400..<500)] {
            let part = all.subset(Array(range))
            for m in part.modalities {
                try NumPyArray.write(Tensor(m.values), toPath: dir.file("\(split)-\(m.name).npy"))
            }
            try NumPyArray.write(
                Tensor(int32s: part.labels.map { Int32($0) }, shape: [part.count]),
                toPath: dir.file("\(split)-labels.npy")
            )
        }
        return (400, 100)
    }

    @Test func aFeaturesOnlyModelIsCrossFittedShownExportedAndPredictsWithoutLabels() throws {
        let dir = TemporaryDirectory()
        _ = try Self.writeViews(in: dir)
        let views = ["--modality", "view0=train-view0.npy:features", "--modality", "view1=train-view1.npy:features"]
        let trained = try #require(
            try FuseboxBinary.json(
                ok(
                    ["train", "views", "--method", "stacking", "--labels", "train-labels.npy", "--format", "json"]
                        + views,
                    dir
                )
            ) as? [String: Any]
        )
        let run = try #require(trained["run"] as? Int)
        let shownRun = try #require(
            try FuseboxBinary.json(ok(["runs", "show", "\(run)", "--format", "json"], dir)) as? [String: Any]
        )
        let params = try #require(shownRun["params"] as? [String: Any])
        #expect(params["branches"] as? String == "cross-fitted")
        #expect(params["branch_folds"] as? String == "5")
        #expect(params["branch.view0.l2"] != nil && params["branch.view1.C"] != nil)
        #expect((shownRun["metrics"] as? [String: Any])?["branch.view0.cv_log_loss"] != nil)

        let show = try ok(["show", "views@1"], dir).stdout
        #expect(show.contains("branch view0  standardise → logistic regression (λ = "), "\(show)")
        #expect(show.contains("head on 5-fold out-of-fold probabilities"))
        let shownJSON = try #require(
            try FuseboxBinary.json(ok(["show", "views@1", "--format", "json"], dir)) as? [String: Any]
        )
        #expect(shownJSON["branch_folds"] as? Int == 5)

        // The exported file holds the branches' tensors.
        _ = try ok(["export", "views@1", "--output", "views.safetensors"], dir)
        let names = Set(try SafetensorsFile(path: dir.file("views.safetensors")).allTensors().map(\.name))
        #expect(
            names.isSuperset(of: [
                "branch.view0.mean", "branch.view0.std", "branch.view0.dense0.kernel", "branch.view1.dense0.bias",
            ])
        )

        // Prediction needs no labels.
        let testViews = ["--modality", "view0=test-view0.npy", "--modality", "view1=test-view1.npy"]
        let predicted = try ok(["predict", "views@1", "--output", "p.csv"] + testViews, dir)
        #expect(predicted.status == 0)
        let lines = try String(contentsOfFile: dir.file("p.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 101, "\(lines.prefix(2))")
        // And it is good: evaluation on the test split.
        let evaluated = try #require(
            try FuseboxBinary.json(
                ok(["eval", "views@1", "--labels", "test-labels.npy", "--format", "json"] + testViews, dir)
            ) as? [String: Any]
        )
        let accuracy = try #require((evaluated["metrics"] as? [String: Any])?["accuracy"] as? Double)
        #expect(accuracy > 0.9, "\(accuracy)")

        // --joint-branches trains end to end instead; on probabilities alone it is refused.
        let joint = try #require(
            try FuseboxBinary.json(
                ok(
                    ["train", "views-joint", "--joint-branches", "--labels", "train-labels.npy", "--format", "json"]
                        + views,
                    dir
                )
            ) as? [String: Any]
        )
        let jointRunId = try #require(joint["run"] as? Int)
        let jointRun = try #require(
            try FuseboxBinary.json(ok(["runs", "show", "\(jointRunId)", "--format", "json"], dir)) as? [String: Any]
        )
        #expect((jointRun["params"] as? [String: Any])?["branches"] as? String == "joint")
    }

    @Test func modalityFilesInDifferentOrdersAlignByTheirIds() throws {
        let dir = TemporaryDirectory()
        _ = try Self.writeViews(in: dir)
        // view1's rows reversed, with ids saying so; view0 and labels in order.
        let view1 = try NumPyArray.read(path: dir.file("train-view1.npy")).floatMatrix()
        try NumPyArray.write(Tensor(view1.gatherRows(Array((0..<400).reversed()))), toPath: dir.file("rev-view1.npy"))
        try NumPyArray.write(
            Tensor(int32s: (0..<400).reversed().map { Int32($0) }, shape: [400]),
            toPath: dir.file("rev-ids.npy")
        )
        try NumPyArray.write(Tensor(int32s: (0..<400).map { Int32($0) }, shape: [400]), toPath: dir.file("ids.npy"))
        let aligned = [
            "--modality", "view0=train-view0.npy:features", "--modality", "view1=rev-view1.npy:features", "--ids",
            "view0=ids.npy", "--ids", "view1=rev-ids.npy", "--ids", "labels=ids.npy", "--labels", "train-labels.npy",
        ]
        let inOrder = [
            "--modality", "view0=train-view0.npy:features", "--modality", "view1=train-view1.npy:features", "--labels",
            "train-labels.npy",
        ]
        // Aligned by id, the data is the data in order: the same fingerprint.
        let a = try #require(
            try FuseboxBinary.json(ok(["train", "a", "--method", "mean", "--format", "json"] + aligned, dir))
                as? [String: Any]
        )
        let b = try #require(
            try FuseboxBinary.json(ok(["train", "b", "--method", "mean", "--format", "json"] + inOrder, dir))
                as? [String: Any]
        )
        let fingerprints = try [a, b].map { t -> String in
            let shown = try #require(
                try FuseboxBinary.json(ok(["show", "\(t["model"] as! String)@1", "--format", "json"], dir))
                    as? [String: Any]
            )
            return try #require((shown["datasets"] as? [String: Any])?["train"] as? String)
        }
        #expect(fingerprints[0] == fingerprints[1])

        // A different id set is one clear line, and the store is untouched.
        try NumPyArray.write(Tensor(int32s: (1...400).map { Int32($0) }, shape: [400]), toPath: dir.file("shifted.npy"))
        let before = try Data(contentsOf: URL(fileURLWithPath: dir.file("fusebox.sqlite")))
        let bad = try FuseboxBinary.run(
            ["train", "c", "--method", "mean"] + aligned.map { $0 == "labels=ids.npy" ? "labels=shifted.npy" : $0 },
            in: dir.path
        )
        #expect(bad.status != 0)
        #expect(
            bad.stderr.contains("hold different samples") && bad.stderr.contains("1 of the 400 ids"),
            "\(bad.stderr)"
        )
        #expect(bad.stderr.split(separator: "\n").count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("fusebox.sqlite"))) == before)
    }
}
