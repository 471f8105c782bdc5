import RealModule
import TensorCore

/// A fusion spec with its parameter tensors: a model that predicts.
///
/// ```swift
/// let model = try FusedClassifier(spec: spec, parameters: tensors)
/// let p = try model.predictProbabilities(testSet)      // n × C, rows sum to 1
/// ```
public struct FusedClassifier: Sendable {
    /// What the model is: modalities, branches, fusion method and head.
    public let spec: FusionSpec
    /// Every tensor the spec implies (see ``FusionSpec/parameterShapes``).
    public internal(set) var parameters: [String: Matrix]

    /// Checks the spec and that `parameters` holds exactly the tensors it implies, with their shapes.
    public init(spec: FusionSpec, parameters: [String: Matrix]) throws {
        try spec.validate()
        let shapes = spec.parameterShapes
        for p in shapes {
            guard let m = parameters[p.name] else {
                throw FusionError(.invalidSpec, "parameter '\(p.name)' is missing")
            }
            guard m.rows == p.rows, m.columns == p.columns else {
                throw FusionError(
                    .invalidSpec,
                    "parameter '\(p.name)' is \(m.rows)×\(m.columns), the spec needs \(p.rows)×\(p.columns)"
                )
            }
            guard m.isFinite else { throw FusionError(.invalidData, "parameter '\(p.name)' holds a non-finite value") }
        }
        if let extra = Set(parameters.keys).subtracting(shapes.map(\.name)).sorted().first {
            throw FusionError(.invalidSpec, "parameter '\(extra)' is not part of the spec")
        }
        self.spec = spec
        self.parameters = parameters
    }

    var network: FusionNetwork { FusionNetwork(spec: spec) }

    /// Lines a dataset's modalities up with the spec's: each present one checked for kind and
    /// width, absent ones `nil` (allowed only by the `renormalize` policy and if one remains).
    func inputs(for data: Dataset) throws -> [Matrix?] {
        let inputs: [Matrix?] = try spec.modalities.map { m in
            guard let input = data.modality(m.name) else { return nil }
            guard input.kind == m.kind else {
                throw FusionError(
                    .invalidData,
                    "modality '\(m.name)' is given as \(input.kind.rawValue), the model was trained on \(m.kind.rawValue)"
                )
            }
            guard input.values.columns == m.width else {
                throw FusionError(
                    .invalidData,
                    "modality '\(m.name)' has \(input.values.columns) columns, the model expects \(m.width)"
                )
            }
            return input.values
        }
        if let unknown = data.modalities.first(where: { m in !spec.modalities.contains { $0.name == m.name } }) {
            throw FusionError(
                .invalidData,
                "the model has no modality '\(unknown.name)' (it has \(spec.modalities.map(\.name).joined(separator: ", ")))"
            )
        }
        let missing = spec.modalities.indices.filter { inputs[$0] == nil }.map { spec.modalities[$0].name }
        if !missing.isEmpty {
            guard spec.missingModalities == .renormalize else {
                throw FusionError(
                    .missingModality,
                    "modality '\(missing[0])' is missing and the model's policy refuses missing modalities"
                )
            }
            guard missing.count < spec.modalities.count else {
                throw FusionError(
                    .missingModality,
                    "none of the model's modalities (\(spec.modalities.map(\.name).joined(separator: ", "))) is in the data"
                )
            }
            guard spec.method.absentModality != .refused else {
                throw FusionError(
                    .missingModality,
                    "modality '\(missing[0])' is missing and \(spec.method.rawValue) needs every modality (its learned layer reads all of them together); pass every modality, or use a method that renormalises over those present, e.g. weighted-average"
                )
            }
        }
        return inputs
    }

    /// What prediction on `data` does about the model's modalities it lacks, in one sentence for a
    /// user (nil when none is missing): `modality 'text' is missing: weighted-average renormalises…`.
    public func absentModalityNotice(for data: Dataset) -> String? {
        let missing = spec.modalities.map(\.name).filter { data.modality($0) == nil }
        guard !missing.isEmpty, missing.count < spec.modalities.count, spec.missingModalities == .renormalize,
            spec.method.absentModality != .refused
        else { return nil }
        let names = missing.map { "'\($0)'" }.joined(separator: ", ")
        return
            "modality \(names) \(missing.count == 1 ? "is" : "are") missing; with \(spec.method.rawValue) \(spec.method.absentModality.description)."
    }

    /// Class probabilities (n × C, rows summing to 1), or n × 1 values for regression, computed
    /// in batches of `batchSize` rows.
    public func predictProbabilities(_ data: Dataset, batchSize: Int = 8192) throws -> Matrix {
        try predictProbabilities(inputs: inputs(for: data), rows: data.count, batchSize: batchSize)
    }

    /// Rows are independent at inference (no dropout, nothing learned), so they are computed in
    /// chunks of at most ``inferenceChunk`` rows — whose intermediate matrices stay in the cache —
    /// on the available cores at once. Each row's computation is the same whatever the chunk, so
    /// the result depends neither on `batchSize` nor on the number of cores.
    func predictProbabilities(inputs: [Matrix?], rows: Int, batchSize: Int = 8192) -> Matrix {
        let net = network
        let parameters = parameters
        let chunk = Swift.max(1, Swift.min(batchSize, Self.inferenceChunk))
        let starts = Array(stride(from: 0, to: rows, by: chunk))
        let batches = parallelMap(starts.count) { index in
            let start = starts[index]
            let end = Swift.min(start + chunk, rows)
            let batch = inputs.map { $0.map { m in rows == end - start ? m : m.gatherRows(start..<end) } }
            var rng = SeededRandom(seed: 0)
            return net.probabilities(net.forward(batch, parameters: parameters, training: false, rng: &rng).output)
        }
        let width = batches.first?.columns ?? (spec.task == .regression ? 1 : spec.classCount)
        var values: [Float] = []
        values.reserveCapacity(rows * width)
        for p in batches { values += p.values }
        return Matrix(rows: rows, columns: width, values: values)
    }

    /// The most rows computed together at inference: 1,024 rows of a 128-unit hidden layer are
    /// 512 KiB, within a core's L2 cache (chunks of 256 to 4,096 rows measured alike; one chunk of
    /// 50,000 rows was 3× slower, its intermediates paged in from memory).
    static let inferenceChunk = 1024

    /// The predicted class of each sample (argmax of the probabilities).
    public func predictClasses(_ data: Dataset) throws -> [Int] { try predictProbabilities(data).argmaxRows() }

    /// The current fusion weights (see ``FusionWeights``); weights that vary per sample (gated)
    /// are averaged over `data`, and empty without it.
    public func fusionWeights(on data: Dataset? = nil) -> FusionWeights {
        let entries = spec.fusionOperator.weights(parameters: parameters, modalities: spec.modalities.map(\.name)) {
            guard let data, data.count > 0, let inputs = try? inputs(for: data) else { return nil }
            var rng = SeededRandom(seed: 0)
            return network.branchOutputs(inputs, parameters: parameters, training: false, rng: &rng).outputs
        }
        return FusionWeights(entries: entries)
    }
}
