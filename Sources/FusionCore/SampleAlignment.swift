import TensorCore

/// Puts files whose rows come in different orders into one order by their sample ids (see ``DatasetFiles``).
enum SampleAlignment {
    /// One file's rows and their ids.
    struct Source {
        let name: String
        let path: String
        let rows: Int
        let ids: [String]?
    }

    /// For each source, the row indices that put it in the order of `sources[reference]`'s ids.
    ///
    /// Every source must have ids, one per row, each id once, and the same set as the reference;
    /// otherwise the error names the source and gives the counts.
    static func orders(_ sources: [Source], reference: Int) throws -> [[Int]] {
        if let bare = sources.first(where: { $0.ids == nil }), let other = sources.first(where: { $0.ids != nil }) {
            throw FusionError(
                .invalidData,
                "'\(bare.path)': \(bare.name) has no sample ids but '\(other.name)' has; give ids for every file or for none"
            )
        }
        var positions: [[String: Int]] = []
        for source in sources {
            let ids = source.ids!
            guard ids.count == source.rows else {
                throw FusionError(
                    .invalidData,
                    "'\(source.path)': \(source.name) has \(source.rows) rows but \(ids.count) sample ids"
                )
            }
            var index: [String: Int] = [:]
            for (row, id) in ids.enumerated() {
                guard index.updateValue(row, forKey: id) == nil else {
                    throw FusionError(
                        .invalidData,
                        "'\(source.path)': sample id '\(id)' appears twice in \(source.name)"
                    )
                }
            }
            positions.append(index)
        }
        let order = sources[reference].ids!
        return try sources.indices.map { s in
            let index = positions[s]
            let missing = order.filter { index[$0] == nil }
            let unknown = sources[s].ids!.filter { positions[reference][$0] == nil }
            guard missing.isEmpty && unknown.isEmpty else {
                let (a, r) = (sources[s], sources[reference])
                func part(_ ids: [String], of x: Source, notIn y: Source) -> String {
                    "\(ids.count) of the \(x.rows) ids of \(x.name) are not in \(y.name)"
                        + (ids.first.map { " (e.g. '\($0)')" } ?? "")
                }
                throw FusionError(
                    .invalidData,
                    "\(a.name) ('\(a.path)') and \(r.name) ('\(r.path)') hold different samples: \(part(unknown, of: a, notIn: r)), \(part(missing, of: r, notIn: a))"
                )
            }
            return order.map { index[$0]! }
        }
    }

    /// An id as text; a whole number is written without a fraction, so `7`, `7.0` and `"7"` are one id.
    static func canonical(_ text: String) -> String { Double(text).flatMap(wholeNumber) ?? text }

    /// The ids of a 1-D tensor (integers or whole floats), as text.
    static func ids(_ tensor: Tensor) -> [String] { tensor.doubles().map { wholeNumber($0) ?? String($0) } }

    /// `n` without a fraction when it is a whole number that fits exactly, else nil.
    private static func wholeNumber(_ n: Double) -> String? {
        n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : nil
    }
}
