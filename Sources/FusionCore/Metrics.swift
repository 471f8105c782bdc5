import RealModule
import TensorCore

/// Per-class precision, recall and F1 (0 where undefined, as scikit-learn's `zero_division=0`).
public struct ClassScores: Sendable, Hashable, Codable {
    /// `TP / (TP + FP)`.
    public let precision: Double
    /// `TP / (TP + FN)`.
    public let recall: Double
    /// `2 · precision · recall / (precision + recall)`.
    public let f1: Double
    /// Number of samples whose true class this is.
    public let support: Int
}

/// Classification metrics of predicted probabilities against labels.
///
/// Conventions:
/// - `nll`: mean of `−log max(p_y, 1e-15)` (natural log).
/// - `brier`: mean over samples of `Σ_k (p_k − [k = y])²` (the multi-class form, range 0…2).
/// - `ece`: expected calibration error with `bins` equal-width bins on the top probability
///   (confidence), `Σ_bins (n_b/n)·|accuracy_b − confidence_b|`; a confidence of exactly 1 falls in the last bin.
/// - `balancedAccuracy`: the mean recall over classes that occur.
/// - `macroF1`: the unweighted mean of per-class F1 over all classes; `weightedF1` weights by support.
public struct ClassificationMetrics: Sendable, Hashable, Codable {
    /// The share of samples whose top class is the true one.
    public let accuracy: Double
    /// The mean recall over the classes that occur.
    public let balancedAccuracy: Double
    /// The unweighted mean of the per-class F1 over all classes.
    public let macroF1: Double
    /// The mean per-class F1 weighted by support.
    public let weightedF1: Double
    /// Negative log-likelihood: the mean of `−log max(p_y, 1e-15)`.
    public let nll: Double
    /// The multi-class Brier score: the mean of `Σ_k (p_k − [k = y])²`, in `0…2`.
    public let brier: Double
    /// Expected calibration error over ``eceBins`` equal-width confidence bins.
    public let ece: Double
    /// The number of ECE bins.
    public let eceBins: Int
    /// Top-k accuracy for k = 1…min(5, C).
    public let topK: [Int: Double]
    /// Precision, recall and F1 of each class, by class index.
    public let perClass: [ClassScores]
    /// `confusion[i][j]`: samples of true class i predicted as j.
    public let confusion: [[Int]]
    /// The ECE bins: mean confidence, accuracy and sample count of each (the reliability diagram).
    public let reliability: [ReliabilityBin]

    /// Computes every metric of `p` (`n × C`, rows of probabilities) against `labels`, with `eceBins` bins for the ECE.
    public init(probabilities p: Matrix, labels: [Int], eceBins: Int = 15) {
        let n = labels.count
        let c = p.columns
        let predicted = p.argmaxRows()
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: c), count: c)
        for (y, yhat) in zip(labels, predicted) { confusion[y][yhat] += 1 }
        let correct = zip(labels, predicted).filter { $0 == $1 }.count
        accuracy = n == 0 ? 0 : Double(correct) / Double(n)
        var scores: [ClassScores] = []
        for k in 0..<c {
            let tp = Double(confusion[k][k])
            let support = confusion[k].reduce(0, +)
            let predictedK = (0..<c).reduce(0) { $0 + confusion[$1][k] }
            let precision = predictedK == 0 ? 0 : tp / Double(predictedK)
            let recall = support == 0 ? 0 : tp / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            scores.append(ClassScores(precision: precision, recall: recall, f1: f1, support: support))
        }
        perClass = scores
        let present = scores.filter { $0.support > 0 }
        balancedAccuracy = present.isEmpty ? 0 : present.map(\.recall).reduce(0, +) / Double(present.count)
        macroF1 = scores.isEmpty ? 0 : scores.map(\.f1).reduce(0, +) / Double(c)
        weightedF1 = n == 0 ? 0 : scores.reduce(0) { $0 + $1.f1 * Double($1.support) } / Double(n)
        var nll = 0.0
        var brier = 0.0
        var binCount = [Int](repeating: 0, count: eceBins)
        var binCorrect = [Int](repeating: 0, count: eceBins)
        var binConfidence = [Double](repeating: 0, count: eceBins)
        var topHits = [Int](repeating: 0, count: Swift.min(5, c))
        for i in 0..<n {
            let row = p.row(i)
            let y = labels[i]
            nll -= Double.log(Double(Swift.max(row[y], 1e-15)))
            for k in 0..<c {
                let d = Double(row[k]) - (k == y ? 1 : 0)
                brier += d * d
            }
            let confidence = Double(row[predicted[i]])
            let bin = Swift.min(Int(confidence * Double(eceBins)), eceBins - 1)
            binCount[bin] += 1
            binConfidence[bin] += confidence
            if predicted[i] == y { binCorrect[bin] += 1 }
            let rank = row.filter { $0 > row[y] }.count
            for k in 0..<topHits.count where rank <= k { topHits[k] += 1 }
        }
        self.nll = n == 0 ? 0 : nll / Double(n)
        self.brier = n == 0 ? 0 : brier / Double(n)
        var ece = 0.0
        for b in 0..<eceBins where binCount[b] > 0 {
            ece +=
                Double(binCount[b]) / Double(n)
                * abs(Double(binCorrect[b]) / Double(binCount[b]) - binConfidence[b] / Double(binCount[b]))
        }
        self.ece = ece
        self.eceBins = eceBins
        reliability = (0..<eceBins).map { b in
            ReliabilityBin(
                lower: Double(b) / Double(eceBins),
                upper: Double(b + 1) / Double(eceBins),
                count: binCount[b],
                confidence: binCount[b] == 0 ? 0 : binConfidence[b] / Double(binCount[b]),
                accuracy: binCount[b] == 0 ? 0 : Double(binCorrect[b]) / Double(binCount[b])
            )
        }
        var topK: [Int: Double] = [:]
        for k in topHits.indices { topK[k + 1] = n == 0 ? 0 : Double(topHits[k]) / Double(n) }
        self.topK = topK
        self.confusion = confusion
    }

    /// The scalar metrics by name, as stored and queried (`accuracy`, `balanced_accuracy`,
    /// `macro_f1`, `weighted_f1`, `nll`, `brier`, `ece`, `top2_accuracy`…).
    public var scalars: [String: Double] {
        var out: [String: Double] = [
            "accuracy": accuracy, "balanced_accuracy": balancedAccuracy, "macro_f1": macroF1, "weighted_f1": weightedF1,
            "nll": nll, "brier": brier, "ece": ece,
        ]
        for (k, v) in topK where k > 1 { out["top\(k)_accuracy"] = v }
        return out
    }
}

/// One bin of a reliability diagram: predictions whose top probability is in `[lower, upper)`.
public struct ReliabilityBin: Sendable, Hashable, Codable {
    /// The bin's lower edge (inclusive).
    public let lower: Double
    /// The bin's upper edge (exclusive, except 1 for the last bin).
    public let upper: Double
    /// The number of predictions in the bin.
    public let count: Int
    /// The mean top probability of those predictions (0 for an empty bin).
    public let confidence: Double
    /// The share of those predictions that are right (0 for an empty bin).
    public let accuracy: Double
}

/// Regression metrics: RMSE, MAE and R² = 1 − SS_res/SS_tot (0 when the targets are constant).
public struct RegressionMetrics: Sendable, Hashable, Codable {
    /// Root mean squared error `√(Σ(ŷ − y)²/n)`.
    public let rmse: Double
    /// Mean absolute error `Σ|ŷ − y|/n`.
    public let mae: Double
    /// The coefficient of determination `1 − SS_res/SS_tot` (0 when the targets are constant).
    public let r2: Double

    /// Computes the metrics of `predictions` against `targets` (the same length).
    public init(predictions: [Float], targets: [Float]) {
        let n = Double(max(targets.count, 1))
        var se = 0.0
        var ae = 0.0
        for (p, t) in zip(predictions, targets) {
            se += Double((p - t) * (p - t))
            ae += Double(abs(p - t))
        }
        let mean = targets.reduce(0.0) { $0 + Double($1) } / n
        let total = targets.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
        rmse = (se / n).squareRoot()
        mae = ae / n
        r2 = total == 0 ? 0 : 1 - se / total
    }

    /// The metrics by their stored names: `rmse`, `mae`, `r2`.
    public var scalars: [String: Double] { ["rmse": rmse, "mae": mae, "r2": r2] }
}
