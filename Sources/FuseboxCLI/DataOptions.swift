import ArgumentParser
import Foundation
import FusionCore

/// How a command is told where its data is.
struct DataOptions: ParsableArguments {
    @Option(
        help:
            "A .safetensors or .npz file holding one tensor per modality plus 'labels' (or SPLIT.NAME tensors, with --split)."
    )
    var data: String?

    @Option(help: "With --data: use the tensors named SPLIT.MODALITY and SPLIT.labels.")
    var split: String?

    @Option(
        name: .customLong("modality"),
        help: "NAME=FILE[:kind] for one modality (.npy, .npz, .csv); repeat for each. kind: probs, logits or features."
    )
    var modalities: [String] = []

    @Option(
        help:
            "With --modality: the labels file (.npy, .npz, .csv): class indices, one-hot rows, or names with --classes."
    )
    var labels: String?

    @Option(
        help:
            "NAME=FILE: sample ids for modality NAME (or 'labels'), one per row (.npy, .csv), to align files whose rows come in different orders. A CSV 'id' column or an 'ids' array in a .npz/.safetensors file works too."
    )
    var ids: [String] = []

    @Option(
        name: .customLong("kind"),
        help: "NAME=KIND to override the detected kind of a modality (probs, logits, features)."
    )
    var kinds: [String] = []

    @Option(help: "Class names, comma-separated, e.g. cat,dog,car.")
    var classes: String?

    func validate() throws {
        guard (data == nil) != modalities.isEmpty else {
            throw ValidationError(
                "Give the data either with --data FILE or with --modality NAME=FILE (and --labels FILE), not both or neither."
            )
        }
        if split != nil && data == nil { throw ValidationError("--split goes with --data.") }
        if !ids.isEmpty && data != nil {
            throw ValidationError(
                "--ids goes with --modality; the tensors of one --data file are already in one order."
            )
        }
        if labels != nil && data != nil {
            throw ValidationError("--labels goes with --modality; with --data the labels are the 'labels' tensor.")
        }
    }

    /// Loads and validates the dataset.
    /// Reads the data. `model`'s modality kinds are the defaults for modalities whose kind is not
    /// given (prediction and evaluation read data the way the version was trained on it).
    func load(regression: Bool = false, requireLabels: Bool = true, model: FusionSpec? = nil) throws -> Dataset {
        var kindMap: [String: ModalityKind] = [:]
        for m in model?.modalities ?? [] { kindMap[m.name] = m.kind }
        for (name, kind) in try parsePairs(kinds, option: "--kind") { kindMap[name] = try Self.kind(kind) }
        let source: DatasetSource
        if let data {
            source = .bundle(path: data, split: split)
        } else {
            source = .files(
                modalities: try modalities.map { spec in
                    guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex else {
                        throw ValidationError("--modality takes NAME=FILE[:kind], got '\(spec)'.")
                    }
                    var file = String(spec[spec.index(after: eq)...])
                    var kind: ModalityKind?
                    if let colon = file.lastIndex(of: ":") {
                        let suffix = String(file[file.index(after: colon)...])
                        if let k = ModalityKind(rawValue: suffix) {
                            kind = k
                            file = String(file[..<colon])
                        } else if !suffix.contains(".") && !suffix.contains("/") {
                            throw ValidationError(
                                "Unknown kind '\(suffix)' in --modality \(spec): use probs, logits or features."
                            )
                        }
                    }
                    return (String(spec[..<eq]), file, kind)
                },
                labels: labels,
                ids: try parsePairs(ids, option: "--ids")
            )
        }
        let names = classes.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        // Class names do not set the class count: the data's widths do, and a mismatch is named as such.
        let classCount = model.flatMap { $0.task == .classification ? $0.classCount : nil }
        return try DatasetFiles.load(
            source,
            kinds: kindMap,
            classNames: names,
            classCount: classCount,
            regression: regression,
            requireLabels: requireLabels
        )
    }

    static func kind(_ text: String) throws -> ModalityKind {
        guard let kind = ModalityKind(rawValue: text) else {
            throw ValidationError("Unknown kind '\(text)': use probs, logits or features.")
        }
        return kind
    }
}
