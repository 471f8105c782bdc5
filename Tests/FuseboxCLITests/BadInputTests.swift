import Foundation
import FuseboxTestSupport
import TensorCore
import TensorIO
import Testing

/// Bad input never hurts the store: one clear line on stderr naming the problem, a non-zero
/// exit, and the store unchanged — a file's bytes, a PostgreSQL database's every row and sequence.
@Suite(.serialized)
struct BadInputTests {
    /// The workspace's store given two trained versions, and data files good and bad.
    static func prepare(_ workspace: Workspace) throws {
        let dir = workspace.dir
        try WorkflowTests.writeData(in: dir, samples: 300)
        _ = try workspace.ok(
            [
                "train", "fuse", "--modality", "image=image.npy", "--modality", "text=text.npy", "--labels",
                "labels.npy", "--epochs", "2",
            ]
        )
        // fuse@2 refuses to predict with a modality missing, so its --subsets cannot be scored.
        _ = try workspace.ok(
            ["train", "fuse", "--data", "data.safetensors", "--split", "train", "--epochs", "2", "--refuse-missing"]
        )
        let image = try NumPyArray.read(path: dir.file("image.npy"))
        let rows = image.shape[0]
        // truncated safetensors
        let bundle = try readBytes(dir.file("data.safetensors"))
        try writeBytes(Array(bundle.prefix(bundle.count - 100)), to: dir.file("truncated.safetensors"))
        // a .npy whose header claims more rows than it holds
        var lying = try readBytes(dir.file("image.npy"))
        let header = String(decoding: lying.prefix(128), as: UTF8.self)
        let claimed = header.replacingOccurrences(of: "(\(rows), 10)", with: "(\(rows + 7), 10)")
        lying.replaceSubrange(0..<128, with: Array(claimed.utf8))
        try writeBytes(lying, to: dir.file("lying.npy"))
        // NaN in an input
        var values = image.floats()
        values[17] = .nan
        try NumPyArray.write(Tensor(floats: values, shape: image.shape), toPath: dir.file("nan.npy"))
        // a label out of range
        var labels = try NumPyArray.read(path: dir.file("labels.npy")).doubles().map { Int32($0) }
        labels[5] = 42
        try NumPyArray.write(Tensor(int32s: labels, shape: [rows]), toPath: dir.file("bad-labels.npy"))
        // ragged modalities
        try NumPyArray.write(
            Tensor(floats: Array(values.prefix((rows - 3) * 10)).map { $0.isNaN ? 0.1 : $0 }, shape: [rows - 3, 10]),
            toPath: dir.file("short.npy")
        )
        try writeBytes(Array("not a database".utf8), to: dir.file("garbage.sqlite"))
    }

    static let modalities = ["--modality", "image=image.npy", "--modality", "text=text.npy", "--labels", "labels.npy"]

    static let cases: [(name: String, arguments: [String], message: String)] = [
        (
            "truncated file", ["train", "fuse", "--data", "truncated.safetensors", "--split", "train"],
            "truncated.safetensors"
        ),
        (
            "lying header",
            [
                "train", "fuse", "--modality", "image=lying.npy", "--modality", "text=text.npy", "--labels",
                "labels.npy",
            ], "lying.npy"
        ),
        (
            "NaN in inputs",
            ["train", "fuse", "--modality", "image=nan.npy", "--modality", "text=text.npy", "--labels", "labels.npy"],
            "non-finite value (nan) at row 1, column 7"
        ),
        (
            "label out of range",
            [
                "train", "fuse", "--modality", "image=image.npy", "--modality", "text=text.npy", "--labels",
                "bad-labels.npy",
            ], "42"
        ),
        (
            "ragged modalities",
            [
                "train", "fuse", "--modality", "image=short.npy", "--modality", "text=text.npy", "--labels",
                "labels.npy",
            ], "rows but 'image' has"
        ),
        (
            "missing file",
            [
                "eval", "fuse@1", "--modality", "image=nope.npy", "--modality", "text=text.npy", "--labels",
                "labels.npy",
            ], "nope.npy"
        ),
        ("unknown model", ["show", "nope@1"], "There is no model 'nope'"),
        ("unknown version", ["eval", "fuse@9"] + modalities, "Model 'fuse' has no version 9"),
        ("unknown alias", ["predict", "fuse@staging"] + modalities, "Alias 'staging' does not exist for model 'fuse'"),
        ("malformed query", ["runs", "--where", "metrics.val_accuracy >"], "Invalid --where at column 23"),
        (
            "injection in a query", ["runs", "--where", "params.method = 'x'; DROP TABLE run"],
            "unexpected character ';'"
        ),
        (
            "bad model name", ["train", "x;y", "--data", "data.safetensors", "--split", "train"],
            "Model name 'x;y' is not valid"
        ),
        (
            "unknown modality for a model",
            ["eval", "fuse@1", "--modality", "audio=image.npy", "--labels", "labels.npy"], "no modality 'audio'"
        ),
        ("no split chosen", ["eval", "fuse@1", "--data", "data.safetensors"], "pick one with --split"),
        ("rollback with no history", ["rollback", "fuse"], "no earlier target"),
        ("garbage store", ["models", "--db", "garbage.sqlite"], "not a Fusebox store"),
        (
            "unparseable --init-weights",
            ["train", "fuse", "--data", "data.safetensors", "--split", "train", "--init-weights", "0.2,x"],
            "'x' is not one"
        ),
        (
            "a subset the model cannot score",
            ["eval", "fuse@2", "--data", "data.safetensors", "--split", "test", "--subsets"],
            "accuracy[image] cannot be computed"
        ),
    ]

    @Test(arguments: TestStore.available, 0..<cases.count)
    func badInputLeavesTheStoreUntouched(store: TestStore, index: Int) async throws {
        try await store.withWorkspace { workspace in
            try Self.prepare(workspace)
            let dir = workspace.dir
            let (name, arguments, message) = Self.cases[index]
            let before = workspace.snapshot()
            let garbage = try readBytes(dir.file("garbage.sqlite"))
            let r = try workspace.run(arguments)
            #expect(r.status != 0, "\(name): exit status")
            let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(lines.count == 1, "\(name): stderr has \(lines.count) lines: \(r.stderr)")
            #expect(lines.first?.hasPrefix("Error: ") == true, "\(name): \(r.stderr)")
            #expect(r.stderr.contains(message), "\(name): \(r.stderr)")
            #expect(workspace.snapshot() == before, "\(name): the store changed")
            #expect(try readBytes(dir.file("garbage.sqlite")) == garbage)
            #expect(r.stdout.isEmpty, "\(name): \(r.stdout)")
        }
    }

    /// The comparison above can fail: a command that writes changes the snapshot, on either kind of store.
    @Test(arguments: TestStore.available)
    func aWriteChangesTheSnapshot(store: TestStore) async throws {
        try await store.withWorkspace { workspace in
            try Self.prepare(workspace)
            let before = workspace.snapshot()
            _ = try workspace.ok(["alias", "set", "fuse@1", "canary"])
            #expect(workspace.snapshot() != before)
        }
    }
}
