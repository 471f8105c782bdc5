import Foundation
import FuseboxTestSupport
import Testing

@testable import FusionCore
@testable import TensorCore

/// Cross-fitted late fusion of `features` modalities: the logistic regression each branch is,
/// the out-of-fold probabilities the head learns from, and the model they make together.
struct CrossFittingTests {
    @Test func logisticRegressionGradientMatchesFiniteDifferences() {
        var rng = TestRandom(seed: 5)
        let (n, d, c) = (12, 4, 3)
        let x = Matrix(rows: n, columns: d, values: (0..<n * d).map { _ in Float.random(in: -2...2, using: &rng) })
        let labels = (0..<n).map { $0 % c }
        let model = LogisticRegression(
            kernel: Matrix(rows: d, columns: c, values: (0..<d * c).map { _ in Float.random(in: -1...1, using: &rng) }),
            bias: Matrix(rows: 1, columns: c, values: (0..<c).map { _ in Float.random(in: -1...1, using: &rng) })
        )
        let l2 = 0.3
        let analytic = model.objective(x, labels: labels, l2: l2).gradient
        let theta = model.flattened
        let h = 1e-2
        for i in theta.indices {
            var plus = theta
            var minus = theta
            plus[i] += h
            minus[i] -= h
            let f = { (t: [Double]) in
                LogisticRegression(flattened: t, features: d, classes: c).objective(x, labels: labels, l2: l2).value
            }
            let numeric = (f(plus) - f(minus)) / (2 * h)
            #expect(abs(numeric - analytic[i]) <= 1e-3 * max(1, abs(numeric)), "θ[\(i)]: \(analytic[i]) vs \(numeric)")
        }
    }

    @Test func outOfFoldProbabilitiesNeverSeeTheirOwnLabel() throws {
        // Pure noise: 150 features, 300 rows, labels independent of them. In sample, a weakly
        // penalised regression fits the noise; out of fold it can do no better than chance.
        let data = try featureViews(samples: 300, views: 1, width: 150, classes: 2, randomLabels: true, seed: 11)
        let fitted = try CrossFittedBranches.fit(data, modalities: ["view0"], folds: 5, seed: 0)
        let oof = try #require(fitted.outOfFold.modality("view0"))
        #expect(oof.kind == .probs)
        let oofAccuracy = accuracy(oof.values, data.labels)
        // Chance is 0.5; three binomial standard deviations over 300 rows are 0.087.
        #expect(oofAccuracy < 0.5 + 0.087, "out-of-fold accuracy \(oofAccuracy) on random labels")
        let x = data.modalities[0].values
        let (mean, std) = x.standardization()
        let inSample = LogisticRegression.fit(
            x.standardized(mean: mean, std: std),
            labels: data.labels,
            classes: 2,
            l2: 1 / (CrossFittedBranches.inverseStrengths.last! * 300),
            maxIterations: 1000
        ).model
        let inSampleAccuracy = accuracy(inSample.probabilities(x.standardized(mean: mean, std: std)), data.labels)
        #expect(inSampleAccuracy > 0.9, "in-sample accuracy \(inSampleAccuracy)")
    }

    func accuracy(_ p: Matrix, _ labels: [Int]) -> Double {
        Double(zip(p.argmaxRows(), labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    @Test func theStrengthIsChosenByOutOfFoldLogLossAndTheBranchIsRefittedOnAllRows() throws {
        let data = try featureViews(samples: 400, views: 2, width: 10, classes: 3, seed: 2)
        let fitted = try CrossFittedBranches.fit(data, modalities: ["view0", "view1"], folds: 5, seed: 3)
        #expect(fitted.branches.map(\.modality) == ["view0", "view1"])
        for branch in fitted.branches {
            #expect(CrossFittedBranches.inverseStrengths.contains(branch.inverseStrength))
            #expect(abs(branch.l2 - 1 / (branch.inverseStrength * 400)) < 1e-12)
            // The recorded score is the out-of-fold probabilities' log-loss.
            let p = try #require(fitted.outOfFold.modality(branch.modality)).values
            let loss = data.labels.enumerated().map { -log(max(Double(p[$0, $1]), 1e-15)) }.reduce(0, +) / 400
            #expect(abs(loss - branch.cvLogLoss) < 1e-9)
            // The refit is converged on all rows at the chosen strength: its gradient is ~0.
            let x = data.modality(branch.modality)!.values.standardized(mean: branch.mean, std: branch.std)
            let g = branch.regression.objective(x, labels: data.labels, l2: branch.l2).gradient
            #expect(g.map(abs).max()! < 1e-3)
        }
        // The more informative view scores better out of fold.
        #expect(fitted.branches[0].cvLogLoss < fitted.branches[1].cvLogLoss)
        // Deterministic for a seed (the folds run in parallel).
        let again = try CrossFittedBranches.fit(data, modalities: ["view0", "view1"], folds: 5, seed: 3)
        #expect(again.outOfFold.modality("view0")!.values == fitted.outOfFold.modality("view0")!.values)
        #expect(again.branches[1].regression.kernel == fitted.branches[1].regression.kernel)
    }

    @Test(arguments: [FusionMethod.weightedAverage, .stacking, .ensembleSelection, .concatMLP])
    func theTrainedModelIsTheRefittedBranchesFollowedByTheHead(method: FusionMethod) throws {
        let all = try featureViews(samples: 600, views: 3, width: 6, classes: 3, seed: 4)
        let (train, test) = (all.subset(Array(0..<480)), all.subset(Array(480..<600)))
        let spec = FusionSpec.standard(for: train, method: method, hidden: 8)
        #expect(spec.crossFittableModalities == ["view0", "view1", "view2"])
        var c = TrainingConfiguration.converging(for: spec, validationSplit: 0.2)
        #expect(c.branchFolds == 5)
        c.epochs = min(c.epochs, 200)
        let result = try Trainer.train(spec: spec, data: train, configuration: c)
        let branches = try #require(result.branches)
        let model = result.model
        #expect(model.spec.branchFolds == 5)
        #expect(model.spec.modalities.map(\.l2) == branches.branches.map { Float($0.l2) })
        // Prediction from raw features equals the head on the refitted branches' probabilities.
        let headSpec = model.spec.headSpec(replacing: spec.crossFittableModalities)
        let head = try FusedClassifier(
            spec: headSpec,
            parameters: model.parameters.filter { !$0.key.hasPrefix("branch.") }
        )
        let direct = try model.predictProbabilities(test)
        let viaHead = try head.predictProbabilities(try branches.transform(test))
        for i in direct.values.indices { #expect(abs(direct.values[i] - viaHead.values[i]) < 1e-5) }
        // The branches were fitted on the training part only (the validation rows were held out).
        #expect(branches.outOfFold.count == result.train.count && result.validation?.count == 96)
        #expect(accuracy(direct, test.labels) > 0.8, "\(method): \(accuracy(direct, test.labels))")
    }

    @Test func jointTrainingRemainsAvailableAndIsNotCrossFitted() throws {
        let train = try featureViews(samples: 200, seed: 6)
        let spec = FusionSpec.standard(for: train, method: .weightedAverage)
        var c = TrainingConfiguration.converging(for: spec)
        c.branchFolds = nil
        let result = try Trainer.train(spec: spec, data: train, configuration: c)
        #expect(result.branches == nil && result.model.spec.branchFolds == nil)
        #expect(result.model.spec.modalities.allSatisfy { $0.l2 == nil })
    }

    @Test(arguments: [300, 20_000])
    func theRefitReachesTheObjectiveOfALongReferenceRun(rows: Int) throws {
        let data = try featureViews(samples: rows, views: 1, width: 20, classes: 4, seed: 9)
        let fitted = try CrossFittedBranches.fit(data, modalities: ["view0"], folds: 5, seed: 0)
        let branch = fitted.branches[0]
        let x = data.modalities[0].values.standardized(mean: branch.mean, std: branch.std)
        let reached = branch.regression.objective(x, labels: data.labels, l2: branch.l2).value
        let reference = LogisticRegression.fit(
            x,
            labels: data.labels,
            classes: 4,
            l2: branch.l2,
            maxIterations: 20_000,
            gradientTolerance: 1e-9
        ).objective
        #expect(reached - reference < 1e-3, "\(rows) rows: \(reached) against \(reference)")
    }

    static let sklearnAvailable = Python.hasModule("sklearn")
    @Test(.enabled(if: sklearnAvailable || isCI, "needs python3 with scikit-learn (pip install scikit-learn)"))
    func aBranchIsScikitLearnsLogisticRegressionAtTheSameStrength() throws {
        try #require(Self.sklearnAvailable, "CI=true but python3 with scikit-learn is missing")
        let data = try featureViews(samples: 500, views: 1, width: 12, classes: 4, seed: 8)
        let x = data.modalities[0].values
        let (mean, std) = x.standardization()
        let z = x.standardized(mean: mean, std: std)
        let l2 = 1e-2
        let ours = LogisticRegression.fit(
            z,
            labels: data.labels,
            classes: 4,
            l2: l2,
            maxIterations: 5000,
            gradientTolerance: 1e-7
        )
        let dir = TemporaryDirectory()
        let rows = (0..<data.count).map { i in (z.row(i).map { "\($0)" } + ["\(data.labels[i])"]).joined(separator: ",")
        }
        try rows.joined(separator: "\n").write(toFile: dir.file("train.csv"), atomically: true, encoding: .utf8)
        let output = try Python.run(
            """
            import sys, numpy as np
            from sklearn.linear_model import LogisticRegression
            tr = np.loadtxt(sys.argv[1], delimiter=","); lam = float(sys.argv[2])
            x, y = tr[:, :-1], tr[:, -1].astype(int)
            m = LogisticRegression(C=1 / (len(tr) * lam), tol=1e-10, max_iter=10000).fit(x, y)
            p = m.predict_proba(x)
            print(-np.mean(np.log(p[np.arange(len(y)), y])) + lam / 2 * np.sum(m.coef_ ** 2))
            np.savetxt(sys.stdout, p, fmt="%.8f", delimiter=",")
            """,
            arguments: [dir.file("train.csv"), "\(l2)"]
        )
        let lines = output.split(separator: "\n")
        let theirs = try #require(Double(lines[0]))
        #expect(abs(ours.objective - theirs) < 1e-5, "ours \(ours.objective), scikit-learn \(theirs)")
        let p = ours.model.probabilities(z)
        var worst: Float = 0
        for (i, line) in lines.dropFirst().enumerated() {
            for (k, value) in line.split(separator: ",").enumerated() {
                worst = max(worst, abs(p[i, k] - Float(value)!))
            }
        }
        #expect(worst < 1e-3, "largest probability difference \(worst)")
    }
}
