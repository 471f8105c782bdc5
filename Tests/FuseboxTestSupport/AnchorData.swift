import FusionCore
import TensorCore
import TensorIO

/// The Keras benchmark data (../shared/anchors/keras/data/m2 or m3) as train and test datasets,
/// or nil when the shared folder is not beside the repository.
public func anchorDatasets(_ set: String = "m2", modalities: [String] = ["image", "text"]) throws -> (train: Dataset, test: Dataset)? {
    guard let dir = anchorDataDirectory() else { return nil }
    let file = try SafetensorsFile(path: "\(dir)/\(set)/fusion_k10_\(set).safetensors")
    func split(_ name: String) throws -> Dataset {
        let inputs = try modalities.map { ModalityInput(name: $0, kind: .probs, values: try file.tensor(named: "\(name).\($0)").floatMatrix()) }
        let labels = try file.tensor(named: "\(name).labels").doubles().map { Int($0) }
        return try Dataset(modalities: inputs, targets: .classes(labels), classCount: 10)
    }
    return (try split("train"), try split("test"))
}
