import Foundation
import FuseboxTestSupport
import TensorCore
import TensorIO
import Testing

/// `fusebox train --method auto` through the built binary: leaderboard, candidate runs linked to
/// the parent run, the winner registered, and default training that converges.
@Suite(.serialized)
struct AutoMethodTests {
    @Test func autoPrintsTheLeaderboardRecordsEachCandidateAndRegistersTheWinner() throws {
        let dir = TemporaryDirectory()
        try WorkflowTests.writeData(in: dir, samples: 600)
        let result = try #require(
            try FuseboxBinary.json(
                ok(
                    [
                        "train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "auto",
                        "--folds", "3", "--hidden", "8", "--format", "json",
                    ],
                    dir
                )
            )
                as? [String: Any]
        )
        let board = try #require(result["leaderboard"] as? [[String: Any]])
        let methods = board.compactMap { $0["method"] as? String }
        #expect(
            Set(methods) == [
                "mean", "sum", "max", "min", "product", "vote", "concat", "weighted-average", "class-weighted-average",
                "log-linear", "stacking", "gated", "concat-mlp", "ensemble-selection",
            ]
        )
        let losses = board.compactMap { $0["cv_log_loss"] as? Double }
        #expect(losses == losses.sorted())
        let chosen = try #require(result["chosen_method"] as? String)
        #expect(board.filter { $0["winner"] as? Bool == true }.map { $0["method"] as? String } == [chosen])
        #expect(result["version"] as? Int == 1)

        // The winner's run is the parent: method auto, the chosen method, and one child run per candidate.
        let parent = try #require(result["run"] as? Int)
        let shown = try #require(
            try FuseboxBinary.json(ok(["runs", "show", "\(parent)", "--format", "json"], dir)) as? [String: Any]
        )
        let params = try #require(shown["params"] as? [String: Any])
        #expect(params["method"] as? String == "auto")
        #expect(params["chosen_method"] as? String == chosen)
        let version = try #require(
            try FuseboxBinary.json(ok(["show", "fuse@1", "--format", "json"], dir)) as? [String: Any]
        )
        #expect(version["method"] as? String == chosen)
        let children = try #require(
            try FuseboxBinary.json(ok(["runs", "--where", "tags.parent_run = '\(parent)'", "--format", "json"], dir))
                as? [[String: Any]]
        )
        #expect(children.count == methods.count)
        let stackingRun = try #require(board.first { $0["method"] as? String == "stacking" }?["run"] as? Int)
        let child = try #require(
            try FuseboxBinary.json(ok(["runs", "show", "\(stackingRun)", "--format", "json"], dir)) as? [String: Any]
        )
        #expect((child["metrics"] as? [String: Any])?["cv_log_loss"] != nil)
        #expect((child["tags"] as? [String: Any])?["parent_run"] as? String == "\(parent)")
    }

    @Test func defaultTrainingConvergesAndRecordsItsSettings() throws {
        let dir = TemporaryDirectory()
        try WorkflowTests.writeData(in: dir, samples: 400)
        let r = try ok(
            [
                "train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "stacking", "--format",
                "json",
            ],
            dir
        )
        let run = try #require((try FuseboxBinary.json(r) as? [String: Any])?["run"] as? Int)
        let shown = try #require(
            try FuseboxBinary.json(ok(["runs", "show", "\(run)", "--format", "json"], dir)) as? [String: Any]
        )
        let params = try #require(shown["params"] as? [String: Any])
        #expect(params["optimizer"] as? String == "lbfgs")
        #expect(params["l2"] != nil && params["gradient_tolerance"] != nil && params["temperature"] != nil)
        // Explicit settings keep the Keras path.
        let k = try ok(
            [
                "train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "stacking", "--epochs",
                "3", "--format", "json",
            ],
            dir
        )
        #expect((try FuseboxBinary.json(k) as? [String: Any])?["epochs"] as? Int == 3)
    }
}

/// Data read the way users have it: logits recognised, kinds checked against the version.
@Suite(.serialized)
struct ModalityKindTests {
    @Test func logitsAreDetectedAndAKindMismatchAtPredictionIsOneClearLine() throws {
        let dir = TemporaryDirectory()
        try WorkflowTests.writeData(in: dir, samples: 500)
        // text as logits: log-probabilities shifted per row are not probabilities, and have one column per class.
        let text = try NumPyArray.read(path: dir.file("text.npy")).floatMatrix()
        var logits = text
        for i in logits.values.indices { logits.values[i] = Float(log(Double(max(text.values[i], 1e-12)))) + 3 }
        try NumPyArray.write(Tensor(logits), toPath: dir.file("text-logits.npy"))
        let trained = try FuseboxBinary.run(
            [
                "train", "fuse", "--modality", "image=image.npy", "--modality", "text=text-logits.npy", "--labels",
                "labels.npy", "--format", "json",
            ],
            in: dir.path
        )
        #expect(trained.status == 0, "\(trained.stderr)")
        let shown = try #require(
            try FuseboxBinary.json(try FuseboxBinary.run(["show", "fuse@1", "--format", "json"], in: dir.path))
                as? [String: Any]
        )
        let modalities = try #require(shown["modalities"] as? [[String: Any]])
        #expect(modalities.first { $0["name"] as? String == "text" }?["kind"] as? String == "logits")

        // Prediction reads the data as the version was trained (no kind needed)…
        let predicted = try FuseboxBinary.run(
            [
                "predict", "fuse@1", "--modality", "image=image.npy", "--modality", "text=text-logits.npy", "-o",
                "p.npy",
            ],
            in: dir.path
        )
        #expect(predicted.status == 0, "\(predicted.stderr)")
        // …and a kind that contradicts it is one line naming modality, expected and found.
        let before = storeSnapshot(dir.file("fusebox.sqlite"))
        let wrong = try FuseboxBinary.run(
            [
                "eval", "fuse@1", "--modality", "image=image.npy", "--modality", "text=text.npy:probs", "--labels",
                "labels.npy",
            ],
            in: dir.path
        )
        #expect(wrong.status == 1)
        #expect(
            wrong.stderr.contains("modality 'text' is given as probs, the model was trained on logits"),
            "\(wrong.stderr)"
        )
        #expect(wrong.stderr.split(separator: "\n").count == 1)
        #expect(storeSnapshot(dir.file("fusebox.sqlite")) == before)
    }
}
