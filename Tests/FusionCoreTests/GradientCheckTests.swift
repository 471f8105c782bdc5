import FuseboxTestSupport
import RealModule
import Testing

@testable import FusionCore
@testable import TensorCore

/// Every learned operator and layer: analytic gradients against central finite differences.
///
/// The network computes in Float32, so the differences use a step of 1e-2 on the parameter
/// and accumulate the loss in Double; the truncation error is O(h²) ≈ 1e-4 relative, far
/// below any real mistake (a wrong sign or factor is off by 10 % or more).
struct GradientCheckTests {
    static func randomProbabilities(_ rows: Int, _ columns: Int, _ rng: inout TestRandom) -> Matrix {
        Matrix(
            rows: rows,
            columns: columns,
            values: (0..<rows * columns).map { _ in Float.random(in: -2...2, using: &rng) }
        ).softmaxRows()
    }

    static func dataset(
        kinds: [ModalityKind],
        rows: Int = 6,
        classes: Int = 3,
        width: Int = 4,
        regression: Bool = false,
        seed: UInt64 = 1
    ) -> Dataset {
        var rng = TestRandom(seed: seed)
        let modalities = kinds.enumerated().map { i, kind -> ModalityInput in
            let values: Matrix
            switch kind {
            case .probs: values = randomProbabilities(rows, classes, &rng)
            case .logits:
                values = Matrix(
                    rows: rows,
                    columns: classes,
                    values: (0..<rows * classes).map { _ in Float.random(in: -2...2, using: &rng) }
                )
            case .features:
                values = Matrix(
                    rows: rows,
                    columns: width,
                    values: (0..<rows * width).map { _ in Float.random(in: -1...1, using: &rng) }
                )
            }
            return ModalityInput(name: "m\(i)", kind: kind, values: values)
        }
        let targets: Targets =
            regression
            ? .values((0..<rows).map { _ in Float.random(in: 0...1, using: &rng) })
            : .classes((0..<rows).map { $0 % classes })
        return try! Dataset(modalities: modalities, targets: targets, classCount: regression ? nil : classes)
    }

    /// Checks ∂L/∂θ for every trainable parameter element of `spec` on `data`.
    func check(
        _ spec: FusionSpec,
        _ data: Dataset,
        seed: UInt64 = 3,
        step: Float = 1e-2,
        tolerance: Double = 2e-2
    ) throws {
        try spec.validate()
        var parameters = spec.initialParameters(seed: seed)
        // Move parameters off their symmetric starting points so every path carries gradient.
        var rng = TestRandom(seed: seed)
        for p in spec.parameterShapes where p.trainable {
            for i in parameters[p.name]!.values.indices {
                parameters[p.name]!.values[i] += Float.random(in: -0.3...0.3, using: &rng)
            }
        }
        Trainer.fitStandardization(spec: spec, data: data, parameters: &parameters)
        let model = try FusedClassifier(spec: spec, parameters: parameters)
        let inputs = try model.inputs(for: data)
        let network = FusionNetwork(spec: spec)
        func loss(_ p: [String: Matrix]) -> Double {
            var r = SeededRandom(seed: 99)  // the same dropout mask every time
            let pass = network.forward(inputs, parameters: p, training: true, rng: &r)
            return network.loss(pass, targets: data.targets, parameters: p).0
        }
        var r = SeededRandom(seed: 99)
        let pass = network.forward(inputs, parameters: parameters, training: true, rng: &r)
        let (_, dOutput) = network.loss(pass, targets: data.targets, parameters: parameters)
        let analytic = network.backward(pass, dOutput, parameters: parameters)
        var checked = 0
        for p in spec.parameterShapes where p.trainable {
            let g = try #require(analytic[p.name], "no gradient for \(p.name)")
            for i in parameters[p.name]!.values.indices {
                var plus = parameters
                plus[p.name]!.values[i] += step
                var minus = parameters
                minus[p.name]!.values[i] -= step
                let numeric = (loss(plus) - loss(minus)) / Double(2 * step)
                let a = Double(g.values[i])
                #expect(
                    abs(a - numeric) <= tolerance * max(abs(numeric), abs(a)) + 2e-4,
                    "\(spec.method.rawValue) \(p.name)[\(i)]: analytic \(a), numeric \(numeric)"
                )
                checked += 1
            }
        }
        #expect(checked > 0)
    }

    /// Every method in the table whose own parameters are trained by gradient.
    static let gradientTrainedMethods = FusionMethod.allCases.filter { $0.operatorType.fitting == .gradient }

    @Test func theTableHasTheGradientTrainedOperators() {
        #expect(
            Set(Self.gradientTrainedMethods).isSuperset(of: [
                .weightedAverage, .classWeightedAverage, .logLinear, .stacking, .gated,
            ])
        )
    }

    @Test(arguments: gradientTrainedMethods)
    func learnedOperatorsOnProbabilities(method: FusionMethod) throws {
        let data = Self.dataset(kinds: [.probs, .probs, .probs])
        try check(FusionSpec.standard(for: data, method: method), data)
    }

    @Test(arguments: FusionMethod.allCases)
    func temperatureCalibrationThroughEveryOperator(method: FusionMethod) throws {
        // Temperatures on probabilities and logits: the gradient flows through the operator into the branches.
        let data = Self.dataset(kinds: [.probs, .logits])
        let spec = FusionSpec.standard(for: data, method: method, hidden: 5, temperature: true)
        // A ReLU head needs the smaller step its own check uses (a kink within ±1e-2 spoils the difference).
        try check(spec, data, step: spec.head.contains(.relu) ? 1e-3 : 1e-2)
    }

    @Test func featureBranchesWithDenseAndSoftmax() throws {
        let data = Self.dataset(kinds: [.features, .probs])
        try check(FusionSpec.standard(for: data, method: .weightedAverage), data)
    }

    @Test func concatMLPHeadWithDropout() throws {
        let data = Self.dataset(kinds: [.probs, .probs])
        try check(FusionSpec.standard(for: data, method: .concatMLP, hidden: 5, dropout: 0.3), data, step: 1e-3)
    }

    @Test func regressionHeadWithMeanSquaredError() throws {
        // The answer's architecture, small: Dense(relu) branches, weighted average, Dense(1), MSE.
        let data = Self.dataset(kinds: [.features, .features], regression: true)
        try check(FusionSpec.standard(for: data, method: .weightedAverage, hidden: 4), data)
    }

    @Test func l2PenaltyOnStackingAndDenseKernels() throws {
        let data = Self.dataset(kinds: [.probs, .features])
        var spec = FusionSpec.standard(for: data, method: .stacking)
        spec.l2 = 0.1
        try check(spec, data)
    }

    @Test func kerasClippedCrossEntropyMatchesTheReferenceCase() {
        // keras_numerics_check.py: y = [[0,1,0],[1,0,0]], p = [[0.5,0,0.5],[2,1,1]] gives 8.405621.
        let (loss, gradient) = Loss.probabilityCrossEntropy(Matrix([[0.5, 0, 0.5], [2, 1, 1]]), labels: [1, 0])
        #expect(loss.isApproximatelyEqual(to: 8.405621, relativeTolerance: 1e-6))
        #expect(gradient.row(0) == [0, 0, 0])  // clipped row: zero gradient
        // Logit path is unclipped: logits [40, 0, 0], label 1 → 40.
        #expect(
            Loss.logitCrossEntropy(Matrix([[40, 0, 0]]), labels: [1]).loss.isApproximatelyEqual(
                to: 40,
                relativeTolerance: 1e-6
            )
        )
    }

    @Test func adamStepMatchesKerasForm() {
        // One step from θ = 1 with g = 0.5: m = 0.05, v = 0.00025, θ -= 1e-3·√(0.001)/0.1 · 0.05/(√0.00025 + 1e-7).
        var optimizer = Optimizer(kind: .adam, learningRate: 1e-3)
        var parameters = ["x": Matrix([[1]])]
        optimizer.update(&parameters, gradients: ["x": Matrix([[0.5]])])
        let expected =
            1 - 1e-3 * (0.001 as Double).squareRoot() / 0.1 * 0.05 / ((0.00025 as Double).squareRoot() + 1e-7)
        #expect(Double(parameters["x"]![0, 0]).isApproximatelyEqual(to: expected, absoluteTolerance: 1e-6))
    }
}
