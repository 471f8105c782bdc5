import FusionCore
import Hummingbird
import RegistryStore
import TensorCore

/// `POST /models/{model}/versions/{ref}/predict`: the reference is resolved on every request (so a
/// promotion or rollback answers the very next one), the classifier comes from the cache.
struct PredictRoutes {
    let cache: ClassifierCache

    func add(to api: RouterGroup<ServerContext>) {
        api.post("models/:model/versions/:ref/predict") { request, context in
            let body = try await request.decode(as: PredictRequest.self, context: context)
            let reference = try context.reference()
            let (model, number) = try await cache.classifier(reference)
            let data = try RequestData.dataset(body.inputs, labels: nil, for: model.spec)
            let p = try model.predictProbabilities(data)
            let predicted = p.argmaxRows()
            return try Response.json(
                PredictResponse(
                    model: reference.model,
                    version: number,
                    probabilities: (0..<p.rows).map { p.row($0) },
                    predictions: predicted.map { i in model.spec.classNames.map { .name($0[i]) } ?? .index(i) }
                )
            )
        }
    }
}

/// Rows sent as JSON, read as a dataset a version can take.
enum RequestData {
    /// Each modality with the kind the version was trained on; rows of equal width and count
    /// (checked, naming the modality); labels, when given, in `0..<classCount`.
    static func dataset(_ inputs: [String: [[Float]]], labels: [Int]?, for spec: FusionSpec) throws -> Dataset {
        guard !inputs.isEmpty else { throw invalid("'inputs' names no modality.") }
        let counts = Set(inputs.values.map(\.count))
        guard counts.count == 1, let rows = counts.first, rows > 0 else {
            throw invalid(
                "Every modality needs the same number of rows (at least one); got "
                    + inputs.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.count)" }.joined(separator: ", ")
                    + "."
            )
        }
        let modalities = try inputs.sorted { $0.key < $1.key }.map { name, values -> ModalityInput in
            guard let expected = spec.modalities.first(where: { $0.name == name }) else {
                throw invalid(
                    "The model has no modality '\(name)' (it has \(spec.modalities.map(\.name).joined(separator: ", ")))."
                )
            }
            if let bad = values.firstIndex(where: { $0.count != expected.width }) {
                throw invalid(
                    "Modality '\(name)' row \(bad) has \(values[bad].count) values; the model expects \(expected.width)."
                )
            }
            return ModalityInput(
                name: name,
                kind: expected.kind,
                values: Matrix(rows: rows, columns: expected.width, values: values.flatMap { $0 })
            )
        }
        if let labels {
            guard labels.count == rows else {
                throw invalid("'labels' has \(labels.count) values for \(rows) rows.")
            }
            if let bad = labels.firstIndex(where: { !(0..<spec.classCount).contains($0) }) {
                throw invalid("Label \(labels[bad]) at row \(bad) is outside 0..<\(spec.classCount).")
            }
        }
        let targets: Targets =
            spec.task == .regression
            ? .values([Float](repeating: 0, count: rows))
            : .classes(labels ?? [Int](repeating: 0, count: rows))
        return try Dataset(
            modalities: modalities,
            targets: targets,
            classCount: spec.task == .classification ? spec.classCount : nil
        )
    }

    static func invalid(_ message: String) -> APIError { APIError(.unprocessableContent, "invalid_data", message) }
}
