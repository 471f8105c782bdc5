extension Dataset {
    /// Splits into training and validation parts, stratified by class: within each class the
    /// samples are shuffled with `seed` and the first `round(fraction × class size)` go to
    /// validation. Regression data is shuffled as one group. Both parts keep the original order.
    public func stratifiedSplit(validationFraction fraction: Double, seed: UInt64) -> (train: Dataset, validation: Dataset) {
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
