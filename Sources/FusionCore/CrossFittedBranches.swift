import RealModule
import TensorCore

/// One `features` modality's classifier, fitted on its own: standardised inputs, then a
/// multinomial logistic regression whose L2 strength was chosen by cross-validation
/// (scikit-learn's `StandardScaler` + `LogisticRegressionCV` recipe).
public struct FittedBranch: Sendable {
    /// The modality this branch classifies.
    public let modality: String
    /// The chosen penalty `λ` of the refit on all rows (mean-loss convention, as ``ModalitySpec/l2``).
    public let l2: Double
    /// The same choice as scikit-learn's `C = 1/(λn)`, one of ``CrossFittedBranches/inverseStrengths``.
    public let inverseStrength: Double
    /// Out-of-fold log-loss and accuracy at the chosen strength, over all rows.
    public let cvLogLoss: Double
    /// Out-of-fold accuracy at the chosen strength, over all rows.
    public let cvAccuracy: Double
    let mean: Matrix
    let std: Matrix
    let regression: LogisticRegression

    /// The branch's tensors as a ``FusionSpec`` names them (`branch.NAME.mean`, `.std`, `.dense0.kernel`, `.dense0.bias`).
    var parameters: [String: Matrix] {
        let prefix = "branch.\(modality)"
        return [
            "\(prefix).mean": mean, "\(prefix).std": std, "\(prefix).dense0.kernel": regression.kernel,
            "\(prefix).dense0.bias": regression.bias,
        ]
    }

    /// Class probabilities for raw (unstandardised) rows.
    func probabilities(_ raw: Matrix) -> Matrix { regression.probabilities(raw.standardized(mean: mean, std: std)) }
}

/// Cross-fitted late fusion of `features` modalities.
///
/// Each modality named is standardised with the training rows' mean and deviation (label-free)
/// and split into K stratified, seeded folds. For every fold and every strength on the grid
/// ``inverseStrengths`` (strongest first, each fit warm-started from the previous one) a logistic
/// regression is fitted on the other K − 1 folds and predicts the fold, so every row gets an
/// out-of-fold probability vector at every strength. The strength with the lowest out-of-fold
/// log-loss is chosen (a tie goes to the stronger penalty); the fusion head is fitted on the
/// out-of-fold probabilities at that strength (``outOfFold``), never on a branch's in-sample
/// outputs; and each branch is refitted on all rows at that strength for the registered model.
/// The same folds serve to choose the strength and to produce the head's inputs: one scalar is
/// chosen per modality from ten, which is the leak scikit-learn's `LogisticRegressionCV` followed
/// by `cross_val_predict` also has, at 1/K of a nested loop's cost.
///
/// Folds run in parallel on the available cores; each is deterministic, so the result is too.
public struct CrossFittedBranches: Sendable {
    /// The number of stratified folds `K`.
    public let folds: Int
    /// The seed of the fold assignment.
    public let seed: UInt64
    /// The ``Dataset/fingerprint`` of the rows the branches were fitted on.
    public let dataFingerprint: String
    /// One fitted branch per cross-fitted modality, in the spec's order.
    public let branches: [FittedBranch]
    /// The data with each cross-fitted modality replaced by its out-of-fold probabilities (kind `probs`).
    public let outOfFold: Dataset

    /// scikit-learn's default grid `C ∈ logspace(−4, 4, 10)`.
    public static let inverseStrengths: [Double] = (0..<10).map { Double.pow(10, -4 + 8 * Double($0) / 9) }

    /// Replaces each cross-fitted modality of `data` by its refitted branch's probabilities.
    public func transform(_ data: Dataset) throws -> Dataset {
        let modalities = data.modalities.map { m -> ModalityInput in
            guard let branch = branches.first(where: { $0.modality == m.name }) else { return m }
            return ModalityInput(name: m.name, kind: .probs, values: branch.probabilities(m.values))
        }
        return try Dataset(
            modalities: modalities,
            targets: data.targets,
            classCount: data.classCount,
            classNames: data.classNames
        )
    }

    /// Fits the branches of `modalities` (each a `features` modality of `data`) as described above.
    public static func fit(
        _ data: Dataset,
        modalities: [String],
        folds k: Int = 5,
        seed: UInt64 = 0
    ) throws
        -> CrossFittedBranches
    {
        guard !data.isRegression else {
            throw FusionError(.invalidData, "cross-fitted branches are logistic regressions: they need class labels")
        }
        guard k >= 2 else { throw FusionError(.invalidSpec, "cross-fitting needs at least 2 folds, got \(k)") }
        let foldRows = data.stratifiedFolds(k, seed: seed)
        guard foldRows.allSatisfy({ !$0.isEmpty }) else {
            throw FusionError(
                .invalidData,
                "\(k)-fold cross-fitting needs at least \(k) samples, there are \(data.count)"
            )
        }
        let labels = data.labels
        let classes = data.classCount
        let inputs = try modalities.map { name -> Matrix in
            guard let m = data.modality(name), m.kind == .features else {
                throw FusionError(.invalidSpec, "'\(name)' is not a features modality of the data")
            }
            return m.values
        }
        let scales = inputs.map { $0.standardization() }
        let standardized = zip(inputs, scales).map { $0.standardized(mean: $1.mean, std: $1.std) }

        // One task per (modality, fold): the fold's out-of-fold probabilities and model at every strength.
        let grid = inverseStrengths
        let tasks = modalities.indices.flatMap { m in foldRows.indices.map { (m, $0) } }
        let results = try parallelMap(tasks.count) { t in
            let (m, f) = tasks[t]
            let held = Set(foldRows[f])
            let trainRows = (0..<data.count).filter { !held.contains($0) }
            let x = standardized[m].gatherRows(trainRows)
            let y = trainRows.map { labels[$0] }
            let heldX = standardized[m].gatherRows(foldRows[f])
            var model: LogisticRegression?
            var out: [(probabilities: Matrix, model: LogisticRegression)] = []
            for c in grid {
                let fitted = LogisticRegression.fit(
                    x,
                    labels: y,
                    classes: classes,
                    l2: 1 / (c * Double(trainRows.count)),
                    from: model
                ).model
                model = fitted
                out.append((fitted.probabilities(heldX), fitted))
            }
            return out
        }

        var branches: [FittedBranch] = []
        var outOfFold = data.modalities
        for (m, name) in modalities.enumerated() {
            let perFold = foldRows.indices.map { results[m * k + $0] }
            // Out-of-fold log-loss and accuracy of each strength over all rows.
            let scores = grid.indices.map { g -> (loss: Double, accuracy: Double) in
                var loss = 0.0
                var correct = 0
                for (f, rows) in foldRows.enumerated() {
                    let p = perFold[f][g].probabilities
                    let predicted = p.argmaxRows()
                    for (r, i) in rows.enumerated() {
                        loss -= Double.log(Swift.max(Double(p[r, labels[i]]), 1e-15))
                        if predicted[r] == labels[i] { correct += 1 }
                    }
                }
                return (loss / Double(data.count), Double(correct) / Double(data.count))
            }
            let best = scores.indices.min { scores[$0].loss < scores[$1].loss }!
            var probabilities = Matrix(rows: data.count, columns: classes)
            for (f, rows) in foldRows.enumerated() {
                let p = perFold[f][best].probabilities
                for (r, i) in rows.enumerated() { for j in 0..<classes { probabilities[i, j] = p[r, j] } }
            }
            // The refit starts from the folds' mean solution at the chosen strength.
            var start = perFold[0][best].model
            for f in 1..<k {
                start.kernel = start.kernel + perFold[f][best].model.kernel
                start.bias = start.bias + perFold[f][best].model.bias
            }
            start.kernel = start.kernel * (1 / Float(k))
            start.bias = start.bias * (1 / Float(k))
            let l2 = 1 / (grid[best] * Double(data.count))
            let refit = LogisticRegression.fit(
                standardized[m],
                labels: labels,
                classes: classes,
                l2: l2,
                from: start,
                maxIterations: 1000
            ).model
            branches.append(
                FittedBranch(
                    modality: name,
                    l2: l2,
                    inverseStrength: grid[best],
                    cvLogLoss: scores[best].loss,
                    cvAccuracy: scores[best].accuracy,
                    mean: scales[m].mean,
                    std: scales[m].std,
                    regression: refit
                )
            )
            let index = outOfFold.firstIndex { $0.name == name }!
            outOfFold[index] = ModalityInput(name: name, kind: .probs, values: probabilities)
        }
        return CrossFittedBranches(
            folds: k,
            seed: seed,
            dataFingerprint: data.fingerprint,
            branches: branches,
            outOfFold: try Dataset(
                modalities: outOfFold,
                targets: data.targets,
                classCount: data.classCount,
                classNames: data.classNames
            )
        )
    }
}
