import TensorCore
import TensorIO

/// Where a dataset's arrays come from on disk.
public enum DatasetSource: Sendable, Hashable {
    /// A safetensors or `.npz` file holding one tensor per modality plus `labels`, or, with a
    /// split, `SPLIT.MODALITY` and `SPLIT.labels` tensors.
    case bundle(path: String, split: String?)
    /// One file per modality (`.npy`, `.npz` with one array, `.csv`, `.safetensors` with one
    /// tensor) and a labels file. Files whose rows come in different orders are aligned by sample
    /// ids (``DatasetFiles``): `ids` gives an ids file (`.npy`, `.csv`) by modality name or `labels`.
    case files(
        modalities: [(name: String, path: String, kind: ModalityKind?)],
        labels: String?,
        ids: [String: String] = [:]
    )

    public static func == (a: DatasetSource, b: DatasetSource) -> Bool {
        String(describing: a) == String(describing: b)
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(String(describing: self)) }
}

/// Reads datasets from files, validating them (see ``Dataset``).
///
/// **Sample ids.** When the rows of separate files come in different orders, each file can name
/// its samples: an `id` column in a CSV file (any text), an `ids` array beside the one data array
/// of a `.npz` or `.safetensors` file, or an ids file given with `ids` (`--ids NAME=FILE`). If
/// any file has ids, every file must; each must hold the same set of ids, each once, and the rows
/// are put in the order of the labels' ids (the first modality's without labels). Integer ids
/// match across formats (`7`, `7.0` and `"7"` are one id). A bundle (`--data`) is one file whose
/// rows agree already; an `ids` (or `SPLIT.ids`) tensor in it is not a modality.
///
/// **Labels** are class indices (one per sample, any integer or float type holding whole numbers),
/// one-hot rows (`n × C`, one 1 per row; the width gives the class count), class names with
/// `classNames`, or real values for regression.
public enum DatasetFiles {
    /// Loads a dataset.
    /// - Parameters:
    ///   - source: the files: a bundle, or one file per modality and a labels file.
    ///   - kinds: kinds by modality name; a modality not named is detected: rows summing to 1 are
    ///     `probs`, other rows with one column per class (when the classes are known) `logits`,
    ///     anything else `features`.
    ///   - classNames: the class names, when labels are given as names (and for the spec).
    ///   - classCount: the number of classes, when the labels alone do not show it.
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
        var arrays: [(name: String, tensor: Tensor, path: String, ids: [String]?)] = []
        var labels: (tensor: Tensor, path: String, ids: [String]?)?
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
                if short == "labels" {
                    labels = (tensor, path, nil)
                } else if short != Self.idsName {
                    arrays.append((short, tensor, path, nil))
                }
            }
        case .files(let modalities, let labelPath, let idFiles):
            if let unknown = idFiles.keys.sorted().first(where: { n in
                n != "labels" && !modalities.contains { $0.name == n }
            }) {
                throw FusionError(
                    .invalidData,
                    "ids were given for '\(unknown)', which is neither a modality nor 'labels'"
                )
            }
            for m in modalities {
                let (tensor, ids) = try readSingle(m.path)
                arrays.append((m.name, tensor, m.path, try idFiles[m.name].map(readIds) ?? ids))
                if let kind = m.kind { kinds[m.name] = kind }
            }
            if let labelPath {
                let named = try classNames.flatMap { try namedLabels(labelPath, classNames: $0) }
                let (tensor, ids) = try named.map { ($0, nil) } ?? readSingle(labelPath)
                labels = (tensor, labelPath, try idFiles["labels"].map(readIds) ?? ids)
            } else if idFiles["labels"] != nil {
                throw FusionError(.invalidData, "ids were given for 'labels' but no labels file")
            }
        }
        guard !arrays.isEmpty else { throw FusionError(.invalidData, "no modality was given") }
        var inputs: [ModalityInput] = []
        for (name, tensor, path, _) in arrays {
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
        // Files with sample ids are put in one order first.
        var labelOrder: [Int]?
        if arrays.contains(where: { $0.ids != nil }) || labels?.ids != nil {
            let sources =
                zip(arrays, inputs).map {
                    SampleAlignment.Source(name: $0.name, path: $0.path, rows: $1.values.rows, ids: $0.ids)
                }
                + (labels.map {
                    [
                        SampleAlignment.Source(
                            name: "labels",
                            path: $0.path,
                            rows: $0.tensor.shape.rank > 0 ? $0.tensor.shape[0] : 1,
                            ids: $0.ids
                        )
                    ]
                } ?? [])
            let orders = try SampleAlignment.orders(sources, reference: labels == nil ? 0 : sources.count - 1)
            for i in inputs.indices {
                inputs[i] = ModalityInput(
                    name: inputs[i].name,
                    kind: inputs[i].kind,
                    values: inputs[i].values.gatherRows(orders[i])
                )
            }
            if labels != nil { labelOrder = orders[sources.count - 1] }
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
        var classCount = classCount
        if let labels {
            let tensor = labels.tensor
            var values: [Double]
            if !regression, tensor.shape.rank == 2, tensor.shape[1] > 1 {
                values = try oneHotLabels(tensor, path: labels.path)
                classCount = classCount ?? tensor.shape[1]
            } else {
                guard tensor.shape.rank == 1 || (tensor.shape.rank == 2 && tensor.shape[1] == 1) else {
                    throw FusionError(
                        .invalidData,
                        "'\(labels.path)': labels have shape \(tensor.shape); they must be one value per sample (or one-hot rows)"
                    )
                }
                values = tensor.doubles()
            }
            if let labelOrder { values = labelOrder.map { values[$0] } }
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

    /// Class indices from one-hot rows (each entry 0 or 1, exactly one 1 per row).
    static func oneHotLabels(_ tensor: Tensor, path: String) throws -> [Double] {
        let width = tensor.shape[1]
        let values = tensor.doubles()
        return try (0..<tensor.shape[0]).map { i in
            let row = values[i * width..<(i + 1) * width]
            guard row.allSatisfy({ $0 == 0 || $0 == 1 }), row.filter({ $0 == 1 }).count == 1 else {
                throw FusionError(
                    .invalidData,
                    "'\(path)': labels have shape \(tensor.shape) but row \(i) is not one-hot (one 1, the rest 0); give class indices or one-hot rows"
                )
            }
            return Double(row.firstIndex(of: 1)! - row.startIndex)
        }
    }

    /// The name of a sample-ids array in a `.npz` or `.safetensors` file.
    static let idsName = "ids"

    /// Sample ids from a file: a one-column CSV (with or without an `id` header) or a 1-D array.
    static func readIds(_ path: String) throws -> [String] {
        if fileExtension(path) == "csv" {
            var cells = try CSVTable.readTextCells(path: path)
            if cells.first == CSVTable.idColumn { cells.removeFirst() }
            return cells.map(SampleAlignment.canonical)
        }
        let (tensor, ids) = try readSingle(path)
        if let ids { return ids }
        guard tensor.shape.rank == 1 else {
            throw FusionError(.invalidData, "'\(path)': ids have shape \(tensor.shape); they must be one per sample")
        }
        return SampleAlignment.ids(tensor)
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

    /// The single array of a file, and its sample ids if the file has them (an `id` CSV column,
    /// or an `ids` array beside the data array).
    static func readSingle(_ path: String) throws -> (tensor: Tensor, ids: [String]?) {
        switch fileExtension(path) {
        case "npy": return (try NumPyArray.read(path: path), nil)
        case "csv":
            let table = try CSVTable.read(path: path)
            let tensor =
                table.matrix.columns == 1
                ? Tensor(floats: table.matrix.values, shape: [table.matrix.rows]) : Tensor(table.matrix)
            return (tensor, table.ids?.map(SampleAlignment.canonical))
        case "npz", "safetensors":
            let all = try readNamed(path)
            let ids = all.first { $0.name == idsName }
            let arrays = all.filter { $0.name != idsName }
            guard arrays.count == 1 else {
                throw FusionError(
                    .invalidData,
                    "'\(path)' holds \(arrays.count) arrays (\(arrays.map(\.name).joined(separator: ", "))); give a file with one (and optionally 'ids'), or use --data"
                )
            }
            if let ids, ids.tensor.shape.rank != 1 {
                throw FusionError(
                    .invalidData,
                    "'\(path)': ids have shape \(ids.tensor.shape); they must be one per sample"
                )
            }
            return (arrays[0].tensor, ids.map { SampleAlignment.ids($0.tensor) })
        default: throw FusionError(.invalidData, "'\(path)': unknown file type; use .npy, .npz, .csv or .safetensors")
        }
    }

    static func fileExtension(_ path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return "" }
        return path[path.index(after: dot)...].lowercased()
    }
}
