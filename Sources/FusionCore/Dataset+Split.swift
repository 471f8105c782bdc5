extension Dataset {
    /// Splits into training and validation parts, stratified by class: within each class the
    /// samples are shuffled with `seed` and the first `round(fraction × class size)` go to
    /// validation. Regression data is shuffled as one group. Both parts keep the original order.
    public func stratifiedSplit(
        validationFraction fraction: Double,
        seed: UInt64
    ) -> (train: Dataset, validation: Dataset) {
        precondition(fraction > 0 && fraction < 1, "validation fraction must be in (0, 1)")
        var rng = SeededRandom(seed: seed)
        var groups: [[Int]] = isRegression ? [Array(0..<count)] : Array(repeating: [], count: classCount)
        if !isRegression { for (i, y) in labels.enumerated() { groups[y].append(i) } }
        var train: [Int] = []
        var validation: [Int] = []
        for var group in groups {
            group.shuffle(using: &rng)
            let k = Int((fraction * Double(group.count)).rounded())
            validation += group.prefix(k)
            train += group.dropFirst(k)
        }
        return (subset(train.sorted()), subset(validation.sorted()))
    }
}

extension Dataset {
    /// Row indices of `k` folds for cross-validation, stratified by class: within each class the
    /// samples are shuffled with `seed` and dealt to the folds in turn (starting where the previous
    /// class stopped), so fold sizes differ by at most one and every class is spread evenly.
    /// Every row is in exactly one fold; each fold's indices are sorted.
    public func stratifiedFolds(_ k: Int, seed: UInt64) -> [[Int]] {
        precondition(k >= 2, "cross-validation needs at least 2 folds")
        var rng = SeededRandom(seed: seed)
        var groups: [[Int]] = isRegression ? [Array(0..<count)] : Array(repeating: [], count: classCount)
        if !isRegression { for (i, y) in labels.enumerated() { groups[y].append(i) } }
        var folds = [[Int]](repeating: [], count: k)
        var next = 0
        for var group in groups {
            group.shuffle(using: &rng)
            for i in group {
                folds[next].append(i)
                next = (next + 1) % k
            }
        }
        return folds.map { $0.sorted() }
    }
}
