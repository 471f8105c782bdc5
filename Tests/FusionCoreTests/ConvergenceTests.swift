import Foundation
import FuseboxTestSupport
import RealModule
import Testing

@testable import FusionCore
@testable import TensorCore

/// Default training converges: L-BFGS to a gradient tolerance for heads without a hidden layer,
/// Adam with early stopping otherwise; and L-BFGS agrees with scikit-learn.
struct ConvergenceTests {
    @Test func lbfgsFindsTheMinimumOfRosenbrocksFunction() {
        // f(x, y) = (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1); ill-conditioned on purpose.
        let solver = LBFGS(maxIterations: 500, gradientTolerance: 1e-8)
        let result = solver.minimize(from: [-1.2, 1]) { v in
            let (x, y) = (v[0], v[1])
            return (
                (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x),
                [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]
            )
        } onIteration: { _, _, _ in
            true
        }
        #expect(result.stop == .gradientTolerance)
        #expect(abs(result.x[0] - 1) < 1e-5 && abs(result.x[1] - 1) < 1e-5, "\(result.x) after \(result.iterations)")
    }

    /// The training objective (mean loss + L2) of a model on its training data.
    func objective(_ model: FusedClassifier, _ data: Dataset) throws -> Double {
        let network = model.network
        var rng = SeededRandom(seed: 0)
        let pass = network.forward(
            try model.inputs(for: data),
            parameters: model.parameters,
            training: false,
            rng: &rng
        )
        return network.loss(pass, targets: data.targets, parameters: model.parameters).0
    }

    @Test(arguments: [300, 20_000], GradientCheckTests.gradientTrainedMethods)
    func defaultsReachTheObjectiveOfALongReferenceRun(rows: Int, method: FusionMethod) throws {
        let (train, _) = try SyntheticData.imageText(samples: rows * 5 / 4, seed: 7)
        let spec = FusionSpec.standard(for: train, method: method)
        let defaults = TrainingConfiguration.converging(for: spec)
        #expect(defaults.optimizer == .lbfgs)
        let trained = try Trainer.train(spec: spec, data: train, configuration: defaults)
        // The reference: the same objective minimised far longer, to a much tighter tolerance.
        var long = defaults
        long.epochs = 5000
        long.gradientTolerance = 1e-9
        let reference = try Trainer.train(spec: spec, data: train, configuration: long)
        let (reached, best) = (try objective(trained.model, train), try objective(reference.model, train))
        #expect(
            reached - best < 1e-3,
            "\(method) on \(rows) rows: \(reached) against \(best) (\(trained.epochs.count) iterations)"
        )
        #expect(trained.epochs.count < defaults.epochs, "\(method) did not converge in \(defaults.epochs) iterations")
    }

    @Test func aHiddenLayerGetsAdamWithEarlyStoppingThatStopsOnTheTrainingLossWithoutValidation() throws {
        let (train, _) = try SyntheticData.imageText(samples: 1000)
        let spec = FusionSpec.standard(for: train, method: .concatMLP, hidden: 16)
        var c = TrainingConfiguration.converging(for: spec)
        #expect(c.optimizer == .adam && c.patience == 10 && c.epochs == 500)
        c.learningRate = 0.01  // converges in tens of epochs
        let result = try Trainer.train(spec: spec, data: train, configuration: c)
        #expect(result.stoppedEarly, "ran all \(result.epochs.count) epochs")
        // Kept the best epoch: no later epoch lowered the training loss by more than the tolerance.
        let best = result.epochs[result.bestEpoch - 1].trainLoss
        for later in result.epochs[result.bestEpoch...] {
            #expect(later.trainLoss >= best * (1 - c.convergenceTolerance))
        }
    }

    @Test func parameterFreeMethodsRecordNoIterations() throws {
        let (train, _) = try SyntheticData.imageText(samples: 500)
        let spec = FusionSpec.standard(for: train, method: .mean)
        let result = try Trainer.train(spec: spec, data: train, configuration: .converging(for: spec))
        #expect(result.epochs.isEmpty)
    }

    static let sklearnAvailable = Python.hasModule("sklearn")
    @Test(.enabled(if: sklearnAvailable || isCI, "needs python3 with scikit-learn (pip install scikit-learn)"))
    func stackingByLBFGSMatchesScikitLearnsLogisticRegression() throws {
        try #require(Self.sklearnAvailable, "CI=true but python3 with scikit-learn is missing")
        // Stacking is multinomial logistic regression on u = [log p_image, log p_text] with L2 λ on the
        // kernel (not the bias) of the mean loss: scikit-learn's objective Σ loss + ‖W‖²/(2C) with C = 1/(nλ).
        let (train, test) = try SyntheticData.imageText(samples: 2500, seed: 3)
        var spec = FusionSpec.standard(for: train, method: .stacking)
        spec.l2 = 1e-2
        var c = TrainingConfiguration.converging(for: spec)
        c.gradientTolerance = 1e-7
        let model = try Trainer.train(spec: spec, data: train, configuration: c).model
        let ours = try model.predictProbabilities(test)
        let dir = TemporaryDirectory()
        func write(_ data: Dataset, _ name: String) throws {
            let u = data.modalities.map { clampedLog($0.values) }
            let rows = (0..<data.count).map { i in
                (u.flatMap { $0.row(i) }.map { "\($0)" } + ["\(data.labels[i])"]).joined(separator: ",")
            }
            try rows.joined(separator: "\n").write(toFile: dir.file(name), atomically: true, encoding: .utf8)
        }
        try write(train, "train.csv")
        try write(test, "test.csv")
        let output = try Python.run(
            """
            import sys, numpy as np
            from sklearn.linear_model import LogisticRegression
            tr = np.loadtxt(sys.argv[1], delimiter=","); te = np.loadtxt(sys.argv[2], delimiter=",")
            lam = float(sys.argv[3])
            m = LogisticRegression(C=1 / (len(tr) * lam), tol=1e-10, max_iter=10000).fit(tr[:, :-1], tr[:, -1].astype(int))
            p = m.predict_proba(tr[:, :-1]); y = tr[:, -1].astype(int)
            print(-np.mean(np.log(p[np.arange(len(y)), y])) + lam / 2 * np.sum(m.coef_ ** 2))
            np.savetxt(sys.stdout, m.predict_proba(te[:, :-1]), fmt="%.8f", delimiter=",")
            """,
            arguments: [dir.file("train.csv"), dir.file("test.csv"), "\(spec.l2)"]
        )
        let lines = output.split(separator: "\n")
        // The same minimum of the objective (mean loss + L2 on the training rows)…
        let theirObjective = try #require(Double(lines[0]))
        let ourObjective = try objective(model, train)
        #expect(abs(ourObjective - theirObjective) < 1e-5, "ours \(ourObjective), scikit-learn \(theirObjective)")
        // …and the same predictions, up to the flat directions of a poorly conditioned problem.
        let theirs = lines.dropFirst().map { $0.split(separator: ",").map { Float($0)! } }
        #expect(theirs.count == test.count)
        var worst: Float = 0
        for i in 0..<test.count { for k in 0..<ours.columns { worst = max(worst, abs(ours[i, k] - theirs[i][k])) } }
        #expect(worst < 0.02, "largest probability difference \(worst)")
    }
}
