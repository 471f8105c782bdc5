import RealModule
import TensorCore

/// One fusion method's cross-validated score (see ``ModelSelection``).
public struct CandidateScore: Sendable {
    /// The method scored.
    public let method: FusionMethod
    /// Mean out-of-fold log-loss `−log p(y)` (probabilities floored at 10⁻¹⁵) on each fold.
    public let foldLogLoss: [Double]
    /// Accuracy on each fold.
    public let foldAccuracy: [Double]
    /// Each sample's out-of-fold log-loss, in the data's row order (for paired comparisons).
    public let sampleLogLoss: [Double]
    /// Learned parameters of the operator and head, trained or fitted directly (what "simpler" means in a tie).
    public let parameterCount: Int
    /// Against the winner: the mean per-sample difference of out-of-fold log-loss (this − winner),
    /// its standard error `sd(d)/√n`, and the two-sided p-value of `z = mean/SE` (normal). Nil for the winner.
    public internal(set) var pairedAgainstWinner: (difference: Double, standardError: Double, p: Double)?

    /// The mean of ``foldLogLoss``: what ranks the candidates.
    public var meanLogLoss: Double { Self.mean(foldLogLoss) }
    /// `sd/√K` over the folds.
    public var logLossStandardError: Double { Self.standardError(foldLogLoss) }
    /// The mean of ``foldAccuracy``.
    public var meanAccuracy: Double { Self.mean(foldAccuracy) }
    /// `sd/√K` of the fold accuracies.
    public var accuracyStandardError: Double { Self.standardError(foldAccuracy) }

    static func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(max(x.count, 1)) }
    /// The sample standard deviation over `√n` (0 for fewer than two values).
    static func standardError(_ x: [Double]) -> Double {
        guard x.count > 1 else { return 0 }
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1) / Double(x.count)).squareRoot()
    }
}

/// `--method auto`: every applicable method cross-validated on the same folds, and the winner.
///
/// The data is split into K stratified folds (``Dataset/stratifiedFolds(_:seed:)``); each method
/// is trained on K − 1 folds with the settings `configuration(spec)` gives and scored on the
/// held-out fold, so every sample gets an out-of-fold prediction from every method. The winner
/// has the lowest mean fold log-loss, except that among the methods whose mean lies within one
/// paired standard error of the best — `mean(ℓ(c) − ℓ(best)) ≤ sd(ℓ(c) − ℓ(best))/√n` over the
/// samples' out-of-fold log-losses, the comparison that accounts for both being scored on the
/// same samples — the simplest (fewest learned parameters, then the lower loss) wins.
///
/// When the settings cross-fit `features` branches (``TrainingConfiguration/branchFolds``), the
/// branches are cross-fitted once on all rows (``CrossFittedBranches``) and every method's operator
/// and head is cross-validated on their out-of-fold probabilities, on the same folds: the branches
/// are the same whichever method wins, so they are not fitted again per method and fold.
public struct ModelSelection: Sendable {
    /// Best first (by mean fold log-loss).
    public let candidates: [CandidateScore]
    /// The method chosen by the rule above.
    public let winner: FusionMethod
    /// The number of stratified folds `K`.
    public let folds: Int
    /// The seed of the fold assignment and of every method's training.
    public let seed: UInt64
    /// The cross-fitted branches the heads were compared on, if any (the winner's refit reuses them).
    public let branches: CrossFittedBranches?

    /// The classification methods whose standard spec fits `data` (for the spec the caller builds).
    public static func applicableMethods(for data: Dataset, spec: (FusionMethod) throws -> FusionSpec) -> [FusionMethod]
    {
        guard !data.isRegression else { return [] }
        return FusionMethod.allCases.filter { method in (try? spec(method).validate()) != nil }
    }

    /// Cross-validates `methods` on `data` and picks the winner.
    ///
    /// - Parameters:
    ///   - methods: the candidates (see ``applicableMethods(for:spec:)``).
    ///   - data: the rows to cross-validate on.
    ///   - k: the number of stratified folds.
    ///   - seed: the seed of the folds and of every training.
    ///   - spec: the spec to train for a method (built from the whole data: widths and classes only).
    ///   - configuration: the training settings for a spec (the seed is varied per fold).
    ///   - progress: called before each method with (method, its 1-based position, the number of methods).
    public static func crossValidate(
        _ methods: [FusionMethod],
        on data: Dataset,
        folds k: Int = 5,
        seed: UInt64 = 0,
        spec: (FusionMethod) throws -> FusionSpec,
        configuration: (FusionSpec) -> TrainingConfiguration,
        progress: (FusionMethod, Int, Int) -> Void = { _, _, _ in }
    ) throws -> ModelSelection {
        guard !data.isRegression else {
            throw FusionError(.invalidData, "automatic method selection is for classification data")
        }
        guard !methods.isEmpty else { throw FusionError(.invalidSpec, "no fusion method applies to this data") }
        let folds = data.stratifiedFolds(k, seed: seed)
        guard folds.allSatisfy({ !$0.isEmpty }) else {
            throw FusionError(
                .invalidData,
                "\(k)-fold cross-validation needs at least \(k) samples, there are \(data.count)"
            )
        }
        var data = data
        var branches: CrossFittedBranches?
        let first = try spec(methods[0])
        if let branchFolds = configuration(first).branchFolds, !first.crossFittableModalities.isEmpty {
            branches = try CrossFittedBranches.fit(
                data,
                modalities: first.crossFittableModalities,
                folds: branchFolds,
                seed: seed
            )
            data = branches!.outOfFold
        }
        let labels = data.labels
        var scores: [CandidateScore] = []
        for (position, method) in methods.enumerated() {
            progress(method, position + 1, methods.count)
            let fullSpec = try spec(method)
            let methodSpec = branches.map { fullSpec.headSpec(replacing: $0.branches.map(\.modality)) } ?? fullSpec
            var foldLoss: [Double] = []
            var foldAccuracy: [Double] = []
            var sampleLoss = [Double](repeating: 0, count: data.count)
            // The folds train in parallel; each is seeded, so the scores do not depend on the cores.
            var base = configuration(fullSpec).selectingByCrossValidation
            base.branchFolds = nil
            let (settings, candidate) = (base, data)
            let predictions = try parallelMap(k) { f -> Matrix in
                let held = Set(folds[f])
                let train = candidate.subset((0..<candidate.count).filter { !held.contains($0) })
                var c = settings
                c.seed = seed &+ UInt64(f)
                let model = try Trainer.train(spec: methodSpec, data: train, configuration: c).model
                return try model.predictProbabilities(candidate.subset(folds[f]))
            }
            for (heldOut, p) in zip(folds, predictions) {
                let predicted = p.argmaxRows()
                var loss = 0.0
                var correct = 0
                for (row, i) in heldOut.enumerated() {
                    let l = -Double.log(Swift.max(Double(p[row, labels[i]]), 1e-15))
                    sampleLoss[i] = l
                    loss += l
                    if predicted[row] == labels[i] { correct += 1 }
                }
                foldLoss.append(loss / Double(heldOut.count))
                foldAccuracy.append(Double(correct) / Double(heldOut.count))
            }
            let count = methodSpec.parameterShapes.filter { !$0.name.hasPrefix("branch.") }.reduce(0) {
                $0 + $1.rows * $1.columns
            }
            scores.append(
                CandidateScore(
                    method: method,
                    foldLogLoss: foldLoss,
                    foldAccuracy: foldAccuracy,
                    sampleLogLoss: sampleLoss,
                    parameterCount: count,
                    pairedAgainstWinner: nil
                )
            )
        }
        scores.sort { $0.meanLogLoss < $1.meanLogLoss }
        let best = scores[0]
        let winner = scores.filter { c in
            let (difference, standardError, _) = Self.paired(c, best)
            return difference <= standardError
        }.min { ($0.parameterCount, $0.meanLogLoss) < ($1.parameterCount, $1.meanLogLoss) }!
        for i in scores.indices where scores[i].method != winner.method {
            scores[i].pairedAgainstWinner = Self.paired(scores[i], winner)
        }
        return ModelSelection(candidates: scores, winner: winner.method, folds: k, seed: seed, branches: branches)
    }

    /// The paired comparison of `a` with `b` on the same samples: the mean of `dᵢ = ℓᵢ(a) − ℓᵢ(b)`
    /// (out-of-fold log-losses), its standard error `sd(d)/√n`, and the two-sided normal p-value of `mean/SE`.
    static func paired(
        _ a: CandidateScore,
        _ b: CandidateScore
    ) -> (difference: Double, standardError: Double, p: Double) {
        let d = zip(a.sampleLogLoss, b.sampleLogLoss).map { $0 - $1 }
        let (mean, se) = (CandidateScore.mean(d), CandidateScore.standardError(d))
        let p = se > 0 ? Double.erfc(abs(mean / se) / 2.squareRoot()) : (mean == 0 ? 1 : 0)
        return (mean, se, p)
    }
}

extension TrainingConfiguration {
    /// The settings for a fit inside automatic selection, where the folds are the validation: no
    /// rows are held out unless early stopping needs them (``patience``).
    public var selectingByCrossValidation: TrainingConfiguration {
        var c = self
        if c.patience == nil { c.validationSplit = 0 }
        return c
    }
}
