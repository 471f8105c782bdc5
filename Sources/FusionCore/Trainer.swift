import TensorCore

/// Settings of a training run. `init()` follows the Keras reference runs (Adam 1e-3, batch 256,
/// 10 epochs) and reproduces them step for step; ``converging(for:validationSplit:)`` gives the
/// settings that train a spec to convergence.
public struct TrainingConfiguration: Sendable, Hashable, Codable {
    /// Epochs for Adam and SGD; the iteration cap for L-BFGS (each iteration is reported as an epoch).
    public var epochs = 10
    /// Rows per mini-batch (Adam and SGD).
    public var batchSize = 256
    /// The step size of Adam and SGD.
    public var learningRate: Float = 1e-3
    /// Which optimiser updates the parameters.
    public var optimizer: OptimizerKind = .adam
    /// SGD momentum (ignored by Adam).
    public var momentum: Float = 0
    /// The seed of initialisation, shuffling, dropout and the validation split.
    public var seed: UInt64 = 0
    /// Reshuffle the training rows every epoch (with the seed); false keeps file order.
    public var shuffle = true
    /// Fraction held out for validation when no validation set is given (0 = none).
    public var validationSplit: Double = 0
    /// Stop after this many epochs without a lower validation loss, restoring the best weights
    /// (nil = never stop early). Without validation data the training loss is watched instead,
    /// and only a relative decrease of more than ``convergenceTolerance`` counts. Not used by L-BFGS.
    public var patience: Int?
    /// L-BFGS stops when every gradient element is at most this in magnitude.
    public var gradientTolerance = 1e-4
    /// With `patience` and no validation data: the relative decrease of the training loss that counts as progress.
    public var convergenceTolerance = 1e-4
    /// Cross-fitting: each `features` branch of a classifier (``FusionSpec/crossFittableModalities``)
    /// is fitted on its own and the operator and head on its out-of-fold probabilities from this
    /// many folds (``CrossFittedBranches``); the settings above then apply to the head. Nil trains
    /// the branches together with the head, end to end, as a Keras model would be.
    public var branchFolds: Int?

    /// The Keras reference settings: Adam (1e-3), batch 256, 10 epochs, seed 0, no validation.
    public init() {}

    /// Settings that train `spec` to convergence, so a user who gives no hyper-parameters gets a
    /// converged model on a thousand rows or a million:
    ///
    /// - `features` branches of a classifier are cross-fitted with 5 folds (``branchFolds``), and
    ///   what follows is said of the rest of the spec (the operator and head);
    /// - a spec without a hidden layer (every operator head, with temperatures and logistic
    ///   feature branches) is fitted full batch by L-BFGS until `max|∂L/∂θ| ≤ 10⁻⁴` (scikit-learn's `tol`), at most 2000
    ///   iterations — the way scikit-learn fits a logistic regression;
    /// - a spec with one (concat-mlp, regression branches) is trained by Adam (lr 10⁻³, batch 256)
    ///   for at most 500 epochs with early stopping (patience 10) on the validation loss when
    ///   there is a validation split, else on the training loss (a relative decrease below 10⁻⁴ is
    ///   no progress), keeping the best weights.
    public static func converging(for spec: FusionSpec, validationSplit: Double = 0) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.validationSplit = validationSplit
        let crossFitted = spec.crossFittableModalities
        if !crossFitted.isEmpty { c.branchFolds = 5 }
        if spec.headSpec(replacing: crossFitted).hasHiddenLayer {
            c.epochs = 500
            c.patience = 10
        } else {
            c.optimizer = .lbfgs
            c.epochs = 2000
        }
        return c
    }
}

extension FusionSpec {
    /// True when a Dense layer feeds another layer with parameters (the objective is then far from convex).
    var hasHiddenLayer: Bool {
        func denseCount(_ layers: [LayerSpec]) -> Int {
            layers.filter { if case .dense = $0 { true } else { false } }.count
        }
        return head.contains(.relu) || modalities.contains { $0.layers.contains(.relu) || denseCount($0.layers) > 1 }
            || (denseCount(head) > 0 && modalities.contains { denseCount($0.layers) > 0 })
    }
}

/// What the trainer reports after each epoch.
public struct EpochReport: Sendable {
    /// 1-based epoch number.
    public let epoch: Int
    /// The batch-size-weighted mean of the batch losses over the epoch (as Keras's `fit` reports).
    public let trainLoss: Double
    /// The loss on the validation data, when there is any.
    public let validationLoss: Double?
    /// Validation metrics: `accuracy` for classification, `rmse` for regression.
    public let validationMetrics: [String: Double]
    /// The normalised fusion weights after the epoch.
    public let weights: FusionWeights
    /// Wall-clock seconds the epoch took.
    public let seconds: Double
}

/// The outcome of ``Trainer/train(spec:data:validation:configuration:initialParameters:branches:onEpoch:)``.
public struct TrainingResult: Sendable {
    /// The trained model, with the weights of ``bestEpoch``.
    public let model: FusedClassifier
    /// One report per epoch run.
    public let epochs: [EpochReport]
    /// The epoch whose weights were kept (the best on validation loss with early stopping, else the last).
    public let bestEpoch: Int
    /// True when early stopping ended training before the last epoch.
    public let stoppedEarly: Bool
    /// The validation dataset actually used (split off or given), if any.
    public let validation: Dataset?
    /// The training dataset actually used (without the validation rows split off).
    public let train: Dataset
    /// The cross-fitted branches, when ``TrainingConfiguration/branchFolds`` applied.
    public var branches: CrossFittedBranches?
}

/// Mini-batch training of a fusion spec.
///
/// Deterministic: the seed fixes initialisation, the validation split, shuffling and dropout,
/// so the same seed and data give a bit-identical model.
public enum Trainer {
    /// Trains `spec` on `data`.
    ///
    /// - Parameters:
    ///   - spec: the model to train; validated first.
    ///   - data: the training rows.
    ///   - configuration: the settings (``TrainingConfiguration/converging(for:validationSplit:)`` for converged defaults).
    ///   - validation: a validation set; when nil and `validationSplit > 0`, a stratified split.
    ///   - initialParameters: values that replace the initialisation for the names given
    ///     (e.g. `["fusion.weights": [[0.2, 0.7]]]` to reproduce a reference run).
    ///   - branches: cross-fitted branches already fitted on exactly the training rows (as
    ///     `--method auto` has them), used instead of fitting them again.
    ///   - onEpoch: called after each epoch; return false to cancel (the trainer then throws
    ///     ``FusionError`` `cancelled`).
    public static func train(
        spec: FusionSpec,
        data: Dataset,
        validation: Dataset? = nil,
        configuration: TrainingConfiguration,
        initialParameters: [String: Matrix] = [:],
        branches: CrossFittedBranches? = nil,
        onEpoch: (EpochReport) throws -> Bool = { _ in true }
    ) throws -> TrainingResult {
        try spec.validate()
        var train = data
        var validation = validation
        if validation == nil, configuration.validationSplit > 0 {
            (train, validation) = data.stratifiedSplit(
                validationFraction: configuration.validationSplit,
                seed: configuration.seed
            )
        }
        guard train.count > 0 else { throw FusionError(.invalidData, "there are no training samples") }
        guard configuration.epochs >= 1, configuration.batchSize >= 1, configuration.learningRate > 0 else {
            throw FusionError(.invalidSpec, "epochs, batch size and learning rate must be positive")
        }
        if let folds = configuration.branchFolds, !spec.crossFittableModalities.isEmpty {
            return try trainCrossFitted(
                spec: spec,
                train: train,
                validation: validation,
                folds: folds,
                configuration: configuration,
                initialParameters: initialParameters,
                branches: branches,
                onEpoch: onEpoch
            )
        }
        return try Self.train(
            spec: spec,
            train: train,
            validation: validation,
            configuration: configuration,
            initialParameters: initialParameters,
            inputsAreHeldOut: false,
            onEpoch: onEpoch
        )
    }

    /// Trains on `train`, validating on `validation`. `inputsAreHeldOut` says the training rows'
    /// inputs are already out-of-fold outputs (cross-fitting): a directly fitted operator then
    /// fits on them rather than on the smaller validation set.
    static func train(
        spec: FusionSpec,
        train: Dataset,
        validation: Dataset?,
        configuration: TrainingConfiguration,
        initialParameters: [String: Matrix],
        inputsAreHeldOut: Bool,
        onEpoch: (EpochReport) throws -> Bool
    ) throws -> TrainingResult {
        var parameters = spec.initialParameters(seed: configuration.seed)
        fitStandardization(spec: spec, data: train, parameters: &parameters)
        for (name, value) in initialParameters {
            guard let current = parameters[name] else {
                throw FusionError(.invalidSpec, "initial value for unknown parameter '\(name)'")
            }
            guard current.rows == value.rows, current.columns == value.columns else {
                throw FusionError(
                    .invalidSpec,
                    "initial '\(name)' is \(value.rows)×\(value.columns), the spec needs \(current.rows)×\(current.columns)"
                )
            }
            parameters[name] = value
        }
        var model = try FusedClassifier(spec: spec, parameters: parameters)
        let inputs = try model.inputs(for: train).map { $0! }
        let validationInputs = try validation.map { try model.inputs(for: $0) }
        let network = model.network
        let fusion = spec.fusionOperator
        let trainable = Set(spec.parameterShapes.filter(\.trainable).map(\.name))
        var optimizer = Optimizer(
            kind: configuration.optimizer,
            learningRate: configuration.learningRate,
            momentum: configuration.momentum
        )
        var rng = SeededRandom(seed: configuration.seed ^ 0x5EED)
        var order = Array(0..<train.count)
        var reports: [EpochReport] = []
        var best: (loss: Double, epoch: Int, parameters: [String: Matrix])?
        var stoppedEarly = false

        /// The report after an epoch (or a direct fit): validation loss and metrics, weights, time.
        func report(epoch: Int, trainLoss: Double, started: ContinuousClock.Instant) -> EpochReport {
            var validationLoss: Double?
            var metrics: [String: Double] = [:]
            if let validation, let validationInputs {
                let output = network.forward(validationInputs, parameters: parameters, training: false, rng: &rng)
                    .output
                let pass = ForwardPass(
                    branchCaches: [],
                    operatorCache: OperatorCache(inputs: [], state: ()),
                    headCaches: [],
                    output: output
                )
                validationLoss = network.loss(pass, targets: validation.targets, parameters: parameters).0
                let p = network.probabilities(output)
                switch validation.targets {
                case .classes(let y):
                    let predicted = p.argmaxRows()
                    metrics["accuracy"] = Double(zip(predicted, y).filter { $0 == $1 }.count) / Double(y.count)
                case .values(let t):
                    metrics["rmse"] =
                        (zip(p.values, t).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(t.count))
                        .squareRoot()
                }
            }
            let elapsed = ContinuousClock.now - started
            return EpochReport(
                epoch: epoch,
                trainLoss: trainLoss,
                validationLoss: validationLoss,
                validationMetrics: metrics,
                weights: model.fusionWeights(on: validation ?? train),
                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            )
        }

        // Gradient epochs only when there is something to train: a parameter-free method (and a directly
        // fitted one without learned branches) records no epochs.
        let gradientEpochs = trainable.isEmpty ? 0 : configuration.epochs
        if configuration.optimizer == .lbfgs && gradientEpochs > 0 {
            // Full batch: the objective is the mean loss over every training row plus the L2 penalty.
            let names = trainable.sorted()
            let targets = train.targets
            func objective(_ x: [Double]) throws -> (Double, [Double]) {
                var offset = 0
                for name in names {
                    let count = parameters[name]!.values.count
                    parameters[name]!.values = x[offset..<offset + count].map { Float($0) }
                    offset += count
                }
                let pass = network.forward(inputs, parameters: parameters, training: false, rng: &rng)
                let (loss, dOutput) = network.loss(pass, targets: targets, parameters: parameters)
                let gradients = network.backward(pass, dOutput, parameters: parameters)
                return (
                    loss,
                    names.flatMap { name in
                        gradients[name].map { $0.values.map(Double.init) }
                            ?? Array(repeating: 0, count: parameters[name]!.values.count)
                    }
                )
            }
            let solver = LBFGS(maxIterations: gradientEpochs, gradientTolerance: configuration.gradientTolerance)
            var clock = ContinuousClock.now
            let start = names.flatMap { parameters[$0]!.values.map(Double.init) }
            let solution = try solver.minimize(from: start, objective: objective) { iteration, loss, _ in
                model.parameters = parameters  // the objective was last evaluated at the accepted point
                let iterationReport = report(epoch: iteration, trainLoss: loss, started: clock)
                reports.append(iterationReport)
                clock = ContinuousClock.now
                return try onEpoch(iterationReport)
            }
            guard solution.stop != .cancelled else {
                throw FusionError(.cancelled, "training was cancelled at iteration \(solution.iterations)")
            }
            guard solution.value.isFinite else {
                throw FusionError(.invalidData, "the loss became \(solution.value); check the inputs")
            }
            _ = try objective(solution.x)
            model.parameters = parameters
        }
        for epoch in stride(from: 1, through: configuration.optimizer == .lbfgs ? 0 : gradientEpochs, by: 1) {
            let clock = ContinuousClock.now
            if configuration.shuffle { order.shuffle(using: &rng) }
            var lossSum = 0.0
            var start = 0
            while start < order.count {
                let end = Swift.min(start + configuration.batchSize, order.count)
                let (loss, allGradients) = Self.lossAndGradients(
                    network,
                    inputs: inputs,
                    rows: order[start..<end],
                    targets: train.targets,
                    parameters: parameters,
                    parts: Self.dataParallelParts(spec, rows: end - start),
                    rng: &rng
                )
                guard loss.isFinite else {
                    throw FusionError(
                        .invalidData,
                        "the loss became \(loss) at epoch \(epoch); lower the learning rate"
                    )
                }
                lossSum += loss * Double(end - start)
                let gradients = allGradients.filter { trainable.contains($0.key) }
                optimizer.update(&parameters, gradients: gradients)
                start = end
            }
            model.parameters = parameters
            let epochReport = report(epoch: epoch, trainLoss: lossSum / Double(order.count), started: clock)
            reports.append(epochReport)
            if configuration.patience != nil {
                // Validation loss when there is one (any decrease counts), else the training loss (a relative decrease above the tolerance).
                let watched = epochReport.validationLoss ?? epochReport.trainLoss
                let margin =
                    epochReport.validationLoss == nil ? configuration.convergenceTolerance * abs(best?.loss ?? 0) : 0
                if best == nil || watched < best!.loss - margin { best = (watched, epoch, parameters) }
            }
            guard try onEpoch(epochReport) else {
                throw FusionError(.cancelled, "training was cancelled at epoch \(epoch)")
            }
            if let patience = configuration.patience, let b = best, epoch - b.epoch >= patience {
                stoppedEarly = epoch < configuration.epochs
                break
            }
        }
        if let best { model.parameters = best.parameters }
        if type(of: fusion).fitting == .direct {
            // Fitted on held-out outputs (what it selects by must not be what the branches saw): the
            // training rows' when they are out-of-fold, else the validation rows' when there are any.
            let clock = ContinuousClock.now
            parameters = model.parameters
            let (heldOut, heldOutInputs) =
                (inputsAreHeldOut ? nil : validation.flatMap { v in validationInputs.map { (v, $0) } })
                ?? (train, inputs.map { $0 })
            let h = network.branchOutputs(heldOutInputs, parameters: parameters, training: false, rng: &rng).outputs.map
            { $0! }
            fusion.fit(branchOutputs: h, labels: heldOut.labels, parameters: &parameters)
            model.parameters = parameters
            let all = network.forward(inputs, parameters: parameters, training: false, rng: &rng)
            let fitReport = report(
                epoch: reports.count + 1,
                trainLoss: network.loss(all, targets: train.targets, parameters: parameters).0,
                started: clock
            )
            reports.append(fitReport)
            guard try onEpoch(fitReport) else { throw FusionError(.cancelled, "training was cancelled after the fit") }
        }
        return TrainingResult(
            model: model,
            epochs: reports,
            bestEpoch: best?.epoch ?? reports.count,
            stoppedEarly: stoppedEarly,
            validation: validation,
            train: train
        )
    }

    /// Sets each standardised branch's mean and standard deviation from the training data
    /// (`Matrix.standardization()`).
    static func fitStandardization(spec: FusionSpec, data: Dataset, parameters: inout [String: Matrix]) {
        for m in spec.modalities where m.standardize {
            guard let x = data.modality(m.name)?.values else { continue }
            (parameters["branch.\(m.name).mean"], parameters["branch.\(m.name).std"]) = x.standardization()
        }
    }
}
