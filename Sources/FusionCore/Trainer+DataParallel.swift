import TensorCore

extension Trainer {
    /// A gradient step's rows split into contiguous parts, each part's forward and backward pass
    /// on its own core, and the results combined by rows:
    ///
    ///     L = Σ_p (n_p / n) L_p        ∇L = Σ_p (n_p / n) ∇L_p
    ///
    /// which is the whole batch's mean loss and gradient (each part's mean is over its own rows;
    /// the L2 term is the same in every part and the weights sum to 1). Each part draws its
    /// dropout from its own stream, seeded from `rng` in part order, so a step is deterministic for
    /// a given seed and part count. One part is the plain step: `rng` drives the dropout itself.
    static func lossAndGradients(
        _ network: FusionNetwork,
        inputs: [Matrix],
        rows: ArraySlice<Int>,
        targets: Targets,
        parameters: [String: Matrix],
        parts: Int,
        rng: inout SeededRandom
    ) -> (loss: Double, gradients: [String: Matrix]) {
        @Sendable func step(_ rows: ArraySlice<Int>, _ rng: inout SeededRandom) -> (Double, [String: Matrix]) {
            let batch: [Matrix?] = inputs.map { $0.gatherRows(rows) }
            let batchTargets: Targets =
                switch targets {
                case .classes(let c): .classes(rows.map { c[$0] })
                case .values(let v): .values(rows.map { v[$0] })
                }
            let pass = network.forward(batch, parameters: parameters, training: true, rng: &rng)
            let (loss, dOutput) = network.loss(pass, targets: batchTargets, parameters: parameters)
            return (loss, network.backward(pass, dOutput, parameters: parameters))
        }
        guard parts > 1 else { return step(rows, &rng) }
        let seeds = (0..<parts).map { _ in rng.next() }
        let bounds = (0...parts).map { rows.startIndex + rows.count * $0 / parts }
        let results = parallelMap(parts) { p in
            var partRandom = SeededRandom(seed: seeds[p])
            return step(rows[bounds[p]..<bounds[p + 1]], &partRandom)
        }
        var loss = 0.0
        var gradients: [String: Matrix] = [:]
        for (p, (partLoss, partGradients)) in results.enumerated() {
            let share = Float(bounds[p + 1] - bounds[p]) / Float(rows.count)
            loss += Double(share) * partLoss
            for (name, g) in partGradients {
                gradients[name] = gradients[name].map { $0 + g * share } ?? g * share
            }
        }
        return (loss, gradients)
    }

    /// How many parts a step of `rows` rows is split into: one per core when the network has a
    /// dense layer and each part gets at least ``dataParallelRows`` rows; otherwise one (a
    /// weighted average's step is a few microseconds, less than waking a second core).
    static func dataParallelParts(_ spec: FusionSpec, rows: Int) -> Int {
        let dense = !spec.head.isEmpty || spec.modalities.contains { $0.hasParameters }
        guard dense else { return 1 }
        return Swift.max(1, Swift.min(Matrix.processorCount, rows / dataParallelRows))
    }

    /// The fewest rows a part of a data-parallel step gets.
    static let dataParallelRows = 64
}
