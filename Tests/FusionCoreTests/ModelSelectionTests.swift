import FuseboxTestSupport
import RealModule
import Testing

@testable import FusionCore
@testable import TensorCore

/// `--method auto`: folds, out-of-fold scores that never see their own labels, and the winner.
struct ModelSelectionTests {
    /// Two conditionally independent, calibrated views: `p_m = softmax(s·z_m)` with
    /// `z_m = s·e_y + N(0, I)` is the true posterior of each view, so the product rule is the
    /// Bayes-optimal fusion (uniform prior).
    static func independentCalibratedViews(
        rows: Int,
        classes: Int = 3,
        signal: Double = 1.2,
        seed: UInt64 = 5
    ) throws -> Dataset {
        var rng = SeededRandom(seed: seed)
        func normal() -> Double {
            let u1 = Double(max(rng.unitFloat(), 1e-7))
            let u2 = Double(rng.unitFloat())
            return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * .pi * u2)
        }
        let labels = (0..<rows).map { _ in rng.index(below: classes) }
        func view() -> Matrix {
            Matrix(
                rows: rows,
                columns: classes,
                values: labels.flatMap { y -> [Float] in
                    let z = (0..<classes).map { k in signal * ((k == y ? signal : 0) + normal()) }
                    let m = z.max()!
                    let e = z.map { Double.exp($0 - m) }
                    return e.map { Float($0 / e.reduce(0, +)) }
                }
            )
        }
        return try Dataset(
            modalities: [
                ModalityInput(name: "a", kind: .probs, values: view()),
                ModalityInput(name: "b", kind: .probs, values: view()),
            ],
            targets: .classes(labels),
            classCount: classes
        )
    }

    @Test func foldsAreStratifiedDisjointAndComplete() throws {
        let data = try Self.independentCalibratedViews(rows: 103)
        let folds = data.stratifiedFolds(5, seed: 1)
        #expect(folds.flatMap { $0 }.sorted() == Array(0..<103))
        #expect(Set(folds.map(\.count)).isSubset(of: [20, 21]))
        for k in 0..<3 {
            let perFold = folds.map { fold in fold.filter { data.labels[$0] == k }.count }
            #expect(perFold.max()! - perFold.min()! <= 1, "class \(k): \(perFold)")
        }
        #expect(data.stratifiedFolds(5, seed: 1) == folds)
        #expect(data.stratifiedFolds(5, seed: 2) != folds)
    }

    @Test func outOfFoldScoresNeverSeeTheirOwnLabels() throws {
        // Random labels: a 210-parameter stacking head fits them in sample, but out of fold it
        // cannot beat chance (1/10).
        var rng = SeededRandom(seed: 1234)  // not the generator's seed, whose first draws are its labels
        let (clean, _) = try SyntheticData.imageText(samples: 250, seed: 9)
        let data = try Dataset(
            modalities: clean.modalities,
            targets: .classes((0..<clean.count).map { _ in rng.index(below: 10) }),
            classCount: 10
        )
        let spec = FusionSpec.standard(for: data, method: .stacking)
        let model = try Trainer.train(spec: spec, data: data, configuration: .converging(for: spec)).model
        let fitted =
            Double(zip(try model.predictClasses(data), data.labels).filter { $0 == $1 }.count) / Double(data.count)
        #expect(fitted > 0.25, "in-sample accuracy \(fitted)")
        let selection = try ModelSelection.crossValidate(
            [.stacking],
            on: data,
            folds: 5,
            spec: { _ in spec },
            configuration: { .converging(for: $0) }
        )
        let outOfFold = selection.candidates[0].meanAccuracy
        #expect(outOfFold < 0.16, "out-of-fold accuracy \(outOfFold) on random labels")
    }

    @Test func autoPicksTheProductRuleWhenItIsBayesOptimal() throws {
        let data = try Self.independentCalibratedViews(rows: 1500)
        let spec = { (m: FusionMethod) in FusionSpec.standard(for: data, method: m, hidden: 16) }
        let methods = ModelSelection.applicableMethods(for: data, spec: spec)
        #expect(Set(methods) == Set(FusionMethod.allCases))
        let selection = try ModelSelection.crossValidate(
            methods,
            on: data,
            spec: spec,
            configuration: { .converging(for: $0) }
        )
        // The learned heads that can represent the product (log-linear, stacking) are no better
        // than one standard error, so the simplest correct rule wins.
        #expect(selection.winner == .product, "\(selection.candidates.map { ($0.method.rawValue, $0.meanLogLoss) })")
        let product = try #require(selection.candidates.first { $0.method == .product })
        let mean = try #require(selection.candidates.first { $0.method == .mean })
        #expect(product.meanLogLoss < mean.meanLogLoss)
        // Every other candidate is compared with the winner, sample by sample.
        for c in selection.candidates where c.method != .product {
            let paired = try #require(c.pairedAgainstWinner)
            #expect(paired.standardError > 0 && (0...1).contains(paired.p))
        }
        #expect(mean.pairedAgainstWinner!.difference > 0 && mean.pairedAgainstWinner!.p < 0.01)
    }
}
