import Foundation
import FuseboxTestSupport
import Testing

@testable import FusionCore
@testable import TensorCore
@testable import TensorIO

/// Files whose rows come in different orders, aligned by sample ids; and one-hot labels.
struct SampleIdTests {
    /// Writes `rows` (one per sample) as CSV with an `id` column first.
    func writeCSV(_ dir: TemporaryDirectory, _ name: String, ids: [String], rows: [[Float]]) throws {
        let width = rows.first?.count ?? 0
        let header = (["id"] + (0..<width).map { "x\($0)" }).joined(separator: ",")
        let lines = zip(ids, rows).map { ([$0] + $1.map { "\($0)" }).joined(separator: ",") }
        try ([header] + lines).joined(separator: "\n").write(toFile: dir.file(name), atomically: true, encoding: .utf8)
    }

    @Test func modalitiesInDifferentOrdersAreAlignedToTheLabels() throws {
        let dir = TemporaryDirectory()
        // Sample k has image row [k, k] and text row [10k]; label k % 2.
        let ids = ["a", "b", "c", "d"]
        try writeCSV(dir, "image.csv", ids: ["c", "a", "d", "b"], rows: [[2, 2], [0, 0], [3, 3], [1, 1]])
        try writeCSV(dir, "labels.csv", ids: ids, rows: [[0], [1], [0], [1]])
        // text as .npy with its ids in a separate file
        try NumPyArray.write(Tensor(floats: [30, 20, 10, 0], shape: [4, 1]), toPath: dir.file("text.npy"))
        try NumPyArray.write(Tensor(int32s: [3, 2, 1, 0], shape: [4]), toPath: dir.file("text-ids.npy"))
        // text ids are numbers: give the reference numeric ids too
        try writeCSV(dir, "labels-numeric.csv", ids: ["0", "1", "2", "3"], rows: [[0], [1], [0], [1]])
        try writeCSV(
            dir,
            "image-numeric.csv",
            ids: ["2.0", "0", "3", "1"],
            rows: [[2, 2], [0, 0], [3, 3], [1, 1]]
        )
        let data = try DatasetFiles.load(
            .files(
                modalities: [
                    ("image", dir.file("image-numeric.csv"), .features), ("text", dir.file("text.npy"), .features),
                ],
                labels: dir.file("labels-numeric.csv"),
                ids: ["text": dir.file("text-ids.npy")]
            )
        )
        #expect(data.modality("image")!.values.values == [0, 0, 1, 1, 2, 2, 3, 3])
        #expect(data.modality("text")!.values.values == [0, 10, 20, 30])
        #expect(data.labels == [0, 1, 0, 1])

        // Text ids against text ids: the CSV id column alone.
        let named = try DatasetFiles.load(
            .files(modalities: [("image", dir.file("image.csv"), .features)], labels: dir.file("labels.csv"))
        )
        #expect(named.modality("image")!.values.values == [0, 0, 1, 1, 2, 2, 3, 3])
    }

    @Test func differentIdSetsAndMissingIdsAreClearErrors() throws {
        let dir = TemporaryDirectory()
        try writeCSV(dir, "image.csv", ids: ["a", "b", "c", "x"], rows: [[0], [1], [2], [3]])
        try writeCSV(dir, "labels.csv", ids: ["a", "b", "c", "d"], rows: [[0], [1], [0], [1]])
        try NumPyArray.write(Tensor(floats: [0, 1, 2, 3], shape: [4, 1]), toPath: dir.file("text.npy"))
        try writeCSV(dir, "twice.csv", ids: ["a", "a", "b", "c"], rows: [[0], [1], [2], [3]])
        func message(_ modalities: [(String, String)], labels: String) -> String {
            do {
                _ = try DatasetFiles.load(
                    .files(modalities: modalities.map { ($0.0, dir.file($0.1), .features) }, labels: dir.file(labels))
                )
                return "loaded"
            } catch { return "\(error)" }
        }
        let different = message([("image", "image.csv")], labels: "labels.csv")
        #expect(different.contains("hold different samples"), "\(different)")
        #expect(different.contains("1 of the 4 ids of image are not in labels (e.g. 'x')"), "\(different)")
        #expect(different.contains("1 of the 4 ids of labels are not in image (e.g. 'd')"), "\(different)")
        let bare = message([("image", "image.csv"), ("text", "text.npy")], labels: "labels.csv")
        #expect(bare.contains("text has no sample ids but 'image' has"), "\(bare)")
        let twice = message([("image", "twice.csv")], labels: "labels.csv")
        #expect(twice.contains("sample id 'a' appears twice in image"), "\(twice)")
    }

    @Test func oneHotLabelsAreClassIndicesAndTheirWidthIsTheClassCount() throws {
        let dir = TemporaryDirectory()
        try NumPyArray.write(Tensor(floats: [1, 2, 3, 4, 5, 6], shape: [3, 2]), toPath: dir.file("x.npy"))
        // Four classes, the last never seen: the one-hot width still says four.
        try NumPyArray.write(
            Tensor(floats: [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0], shape: [3, 4]),
            toPath: dir.file("onehot.npy")
        )
        let data = try DatasetFiles.load(
            .files(modalities: [("x", dir.file("x.npy"), .features)], labels: dir.file("onehot.npy"))
        )
        #expect(data.labels == [1, 0, 2])
        #expect(data.classCount == 4)
        try NumPyArray.write(Tensor(floats: [0, 1, 1, 0, 0.5, 0.5], shape: [3, 2]), toPath: dir.file("soft.npy"))
        #expect {
            try DatasetFiles.load(
                .files(modalities: [("x", dir.file("x.npy"), .features)], labels: dir.file("soft.npy"))
            )
        } throws: { "\($0)".contains("row 2 is not one-hot") }
    }
}
