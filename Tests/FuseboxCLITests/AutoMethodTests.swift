import Foundation
import FuseboxTestSupport
import Testing

/// `fusebox train --method auto` through the built binary: leaderboard, candidate runs linked to
/// the parent run, the winner registered, and default training that converges.
@Suite(.serialized)
struct AutoMethodTests {
    func ok(_ arguments: [String], _ dir: TemporaryDirectory) throws -> CLIResult {
        let r = try FuseboxBinary.run(arguments, in: dir.path)
        #expect(r.status == 0, "\(arguments): \(r.stderr)")
        return r
    }

    @Test func autoPrintsTheLeaderboardRecordsEachCandidateAndRegistersTheWinner() throws {
        let dir = TemporaryDirectory()
        try WorkflowTests.writeData(in: dir, samples: 600)
        let result = try #require(
            try FuseboxBinary.json(ok(["train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "auto", "--folds", "3", "--hidden", "8", "--format", "json"], dir))
                as? [String: Any])
        let board = try #require(result["leaderboard"] as? [[String: Any]])
        let methods = board.compactMap { $0["method"] as? String }
        #expect(Set(methods) == ["mean", "sum", "max", "min", "product", "vote", "concat", "weighted-average", "class-weighted-average", "log-linear", "stacking", "gated", "concat-mlp", "ensemble-selection"])
        let losses = board.compactMap { $0["cv_log_loss"] as? Double }
        #expect(losses == losses.sorted())
        let chosen = try #require(result["chosen_method"] as? String)
        #expect(board.filter { $0["winner"] as? Bool == true }.map { $0["method"] as? String } == [chosen])
        #expect(result["version"] as? Int == 1)

        // The winner's run is the parent: method auto, the chosen method, and one child run per candidate.
        let parent = try #require(result["run"] as? Int)
        let shown = try #require(try FuseboxBinary.json(ok(["runs", "show", "\(parent)", "--format", "json"], dir)) as? [String: Any])
        let params = try #require(shown["params"] as? [String: Any])
        #expect(params["method"] as? String == "auto")
        #expect(params["chosen_method"] as? String == chosen)
        let version = try #require(try FuseboxBinary.json(ok(["show", "fuse@1", "--format", "json"], dir)) as? [String: Any])
        #expect(version["method"] as? String == chosen)
        let children = try #require(try FuseboxBinary.json(ok(["runs", "--where", "tags.parent_run = '\(parent)'", "--format", "json"], dir)) as? [[String: Any]])
        #expect(children.count == methods.count)
        let stackingRun = try #require(board.first { $0["method"] as? String == "stacking" }?["run"] as? Int)
        let child = try #require(try FuseboxBinary.json(ok(["runs", "show", "\(stackingRun)", "--format", "json"], dir)) as? [String: Any])
        #expect((child["metrics"] as? [String: Any])?["cv_log_loss"] != nil)
        #expect((child["tags"] as? [String: Any])?["parent_run"] as? String == "\(parent)")
    }

    @Test func defaultTrainingConvergesAndRecordsItsSettings() throws {
        let dir = TemporaryDirectory()
        try WorkflowTests.writeData(in: dir, samples: 400)
        let r = try ok(["train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "stacking", "--format", "json"], dir)
        let run = try #require((try FuseboxBinary.json(r) as? [String: Any])?["run"] as? Int)
        let shown = try #require(try FuseboxBinary.json(ok(["runs", "show", "\(run)", "--format", "json"], dir)) as? [String: Any])
        let params = try #require(shown["params"] as? [String: Any])
        #expect(params["optimizer"] as? String == "lbfgs")
        #expect(params["l2"] != nil && params["gradient_tolerance"] != nil && params["temperature"] != nil)
        // Explicit settings keep the Keras path.
        let k = try ok(["train", "fuse", "--data", "data.safetensors", "--split", "train", "--method", "stacking", "--epochs", "3", "--format", "json"], dir)
        #expect((try FuseboxBinary.json(k) as? [String: Any])?["epochs"] as? Int == 3)
    }
}
