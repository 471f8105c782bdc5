import TensorCore
import TensorIO

/// Where a dataset's arrays come from on disk.
public enum DatasetSource: Sendable, Hashable {
    /// A safetensors or `.npz` file holding one tensor per modality plus `labels`, or, with a
    /// split, `SPLIT.MODALITY` and `SPLIT.labels` tensors.
    case bundle(path: String, split: String?)
    /// One file per modality (`.npy`, `.npz` with one array, `.csv`, `.safetensors` with one
    /// tensor) and a labels file.
    case files(modalities: [(name: String, path: String, kind: ModalityKind?)], labels: String?)

    public static func == (a: DatasetSource, b: DatasetSource) -> Bool {
        String(describing: a) == String(describing: b)
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(String(describing: self)) }
}

/// Reads datasets from files, validating them (see ``Dataset``).
public enum DatasetFiles {
    /// Loads a dataset.
    /// - Parameters:
    ///   - kinds: kinds by modality name; a modality not named is detected: rows summing to 1 are
    ///     `probs`, other rows with one column per class (when the classes are known) `logits`,
    ///     anything else `features`.
    ///   - regression: read labels as real targets rather than class indices.
    ///   - requireLabels: when false, a missing `labels` gives placeholder class 0 labels (for prediction).
    public static func load(
        _ source: DatasetSource,
        kinds: [String: ModalityKind] = [:],
        classNames: [String]? = nil,
        classCount: Int? = nil,
        regression: Bool = false,
        requireLabels: Bool = true
    ) throws -> Dataset {
        var arrays: [(name: String, tensor: Tensor, path: String)] = []
        var labels: (tensor: Tensor, path: String)?
        var kinds = kinds
        switch source {
        case .bundle(let path, let split):
            let all = try readNamed(path)
            let prefix = split.map { "\($0)." } ?? ""
            let selected = all.filter { $0.name.hasPrefix(prefix) && (split != nil || !$0.name.contains(".")) }
            if selected.isEmpty {
                let splits = Set(
                    all.compactMap {
                        $0.name.split(separator: ".").count > 1 ? String($0.name.split(separator: ".")[0]) : nil
                    }
                ).sorted()
                if split == nil, !splits.isEmpty {
                    throw FusionError(
                        .invalidData,
                        "'\(path)' holds the splits \(splits.joined(separator: ", ")); pick one with --split NAME"
                    )
                }
                throw FusionError(
                    .invalidData,
                    "'\(path)' has no tensors\(split.map { " for split '\($0)'" } ?? "") (it holds: \(all.map(\.name).joined(separator: ", ")))"
                )
            }
            for (name, tensor) in selected {
                let short = String(name.dropFirst(prefix.count))
                if short == "labels" { labels = (tensor, path) } else { arrays.append((short, tensor, path)) }
            }
        case .files(let modalities, let labelPath):
            for m in modalities {
                arrays.append((m.name, try readSingle(m.path), m.path))
                if let kind = m.kind { kinds[m.name] = kind }
            }
            if let labelPath {
                let named = try classNames.flatMap { try namedLabels(labelPath, classNames: $0) }
                labels = (try named ?? readSingle(labelPath), labelPath)
            }
        }
        guard !arrays.isEmpty else { throw FusionError(.invalidData, "no modality was given") }
        var inputs: [ModalityInput] = []
        for (name, tensor, path) in arrays {
            guard tensor.dtype.isFloatingPoint || tensor.dtype.isInteger else {
                throw FusionError(
                    .invalidData,
                    "'\(path)': modality '\(name)' has dtype \(tensor.dtype.rawValue), not a number type"
                )
            }
            let matrix: Matrix
            do { matrix = try tensor.floatMatrix() } catch {
                throw FusionError(
                    .invalidData,
                    "'\(path)': modality '\(name)' has shape \(tensor.shape); it must be samples × features"
                )
            }
            inputs.append(
                ModalityInput(name: name, kind: kinds[name] ?? ModalityInput.detectKind(matrix), values: matrix)
            )
        }
        // Modalities first agree with each other (the message names two of them, not labels that a
        // prediction never takes).
        if let first = inputs.first, let ragged = inputs.first(where: { $0.values.rows != first.values.rows }) {
            throw FusionError(
                .invalidData,
                "modality '\(ragged.name)' has \(ragged.values.rows) rows but '\(first.name)' has \(first.values.rows) (modalities must have equal lengths)"
            )
        }
        let targets: Targets
        if let labels {
            guard labels.tensor.shape.rank == 1 || (labels.tensor.shape.rank == 2 && labels.tensor.shape[1] == 1) else {
                throw FusionError(
                    .invalidData,
                    "'\(labels.path)': labels have shape \(labels.tensor.shape); they must be one value per sample"
                )
            }
            let values = labels.tensor.doubles()
            if regression {
                targets = .values(values.map { Float($0) })
            } else {
                if let bad = values.firstIndex(where: { $0 != $0.rounded() || !$0.isFinite }) {
                    throw FusionError(
                        .invalidData,
                        "'\(labels.path)': label \(values[bad]) at row \(bad) is not a class index (use --task regression for real targets)"
                    )
                }
                if let bad = values.firstIndex(where: { abs($0) > 1e9 }) {
                    throw FusionError(
                        .invalidData,
                        "'\(labels.path)': label \(values[bad]) at row \(bad) is out of range"
                    )
                }
                targets = .classes(values.map { Int($0) })
            }
        } else {
            guard !requireLabels else {
                throw FusionError(.invalidData, "no labels were given (a 'labels' tensor, or --labels FILE)")
            }
            targets =
                regression
                ? .values([Float](repeating: 0, count: inputs[0].values.rows))
                : .classes([Int](repeating: 0, count: inputs[0].values.rows))
        }
        // Logits are told from features by their width: a detected `features` modality with one
        // column per class (and more than one class) is read as logits.
        let classes = classCount ?? classNames?.count ?? (targets.classLabels?.max().map { $0 + 1 })
        if let classes, classes > 1 {
            inputs = inputs.map { m in
                kinds[m.name] == nil && m.kind == .features && m.values.columns == classes
                    ? ModalityInput(name: m.name, kind: .logits, values: m.values) : m
            }
        }
        return try Dataset(modalities: inputs, targets: targets, classCount: classCount, classNames: classNames)
    }

    /// Labels written as class names (a `.csv` or `.txt` file, one per line, an optional header),
    /// mapped to their index in `classNames`; nil when the file is not text or its labels are numbers.
    static func namedLabels(_ path: String, classNames: [String]) throws -> Tensor? {
        guard path.hasSuffix(".csv") || path.hasSuffix(".txt") else { return nil }
        var cells = try CSVTable.readTextCells(path: path)
        let index = Dictionary(classNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        // A first line that is neither a class name nor a number is a header.
        if let first = cells.first, index[first] == nil, Double(first) == nil { cells.removeFirst() }
        guard cells.contains(where: { Double($0) == nil }) else { return nil }
        let labels = try cells.enumerated().map { row, name in
            guard let k = index[name] else {
                throw FusionError(
                    .invalidData,
                    "'\(path)': label '\(name)' at row \(row) is not one of the --classes (\(classNames.joined(separator: ", ")))"
                )
            }
            return Int32(k)
        }
        return Tensor(int32s: labels, shape: [labels.count])
    }

    /// Every named array of a safetensors or `.npz` file.
    static func readNamed(_ path: String) throws -> [(name: String, tensor: Tensor)] {
        switch fileExtension(path) {
        case "safetensors": return try SafetensorsFile(path: path).allTensors()
        case "npz": return try NumPyArchive.read(path: path)
        default:
            throw FusionError(
                .invalidData,
                "'\(path)': --data takes a .safetensors or .npz file; use --modality NAME=FILE for .npy and .csv"
            )
        }
    }

    /// The single array of a file.
    static func readSingle(_ path: String) throws -> Tensor {
        switch fileExtension(path) {
        case "npy": return try NumPyArray.read(path: path)
        case "csv":
            let table = try CSVTable.read(path: path)
            return table.matrix.columns == 1
                ? Tensor(floats: table.matrix.values, shape: [table.matrix.rows]) : Tensor(table.matrix)
        case "npz", "safetensors":
            let arrays = try readNamed(path)
            guard arrays.count == 1 else {
                throw FusionError(
                    .invalidData,
                    "'\(path)' holds \(arrays.count) arrays (\(arrays.map(\.name).joined(separator: ", "))); give a file with one, or use --data"
                )
            }
            return arrays[0].tensor
        default: throw FusionError(.invalidData, "'\(path)': unknown file type; use .npy, .npz, .csv or .safetensors")
        }
    }

    static func fileExtension(_ path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return "" }
        return path[path.index(after: dot)...].lowercased()
    }
}
