import FusionCore
import TensorCore
import TensorIO

/// The Keras benchmark data (`Tests/Fixtures/keras/m2`, committed) as train and test datasets.
public func anchorDatasets(
    _ set: String = "m2",
    modalities: [String] = ["image", "text"]
) throws -> (train: Dataset, test: Dataset) {
    let dir = anchorDataDirectory()
    let file = try SafetensorsFile(path: "\(dir)/\(set)/fusion_k10_\(set).safetensors")
    func split(_ name: String) throws -> Dataset {
        let inputs = try modalities.map {
            ModalityInput(name: $0, kind: .probs, values: try file.tensor(named: "\(name).\($0)").floatMatrix())
        }
        let labels = try file.tensor(named: "\(name).labels").doubles().map { Int($0) }
        return try Dataset(modalities: inputs, targets: .classes(labels), classCount: 10)
    }
    return (try split("train"), try split("test"))
}
