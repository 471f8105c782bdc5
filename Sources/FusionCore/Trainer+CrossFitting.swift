import TensorCore

extension Trainer {
    /// Cross-fitted training (``TrainingConfiguration/branchFolds``): the `features` branches are
    /// fitted on their own (``CrossFittedBranches``), the rest of the spec (``FusionSpec/headSpec(replacing:)``)
    /// is trained with `configuration` on their out-of-fold probabilities and validated on the
    /// refitted branches' probabilities for the validation rows, and the two are joined into one
    /// model whose spec records each branch's chosen L2 strength and the fold count.
    static func trainCrossFitted(
        spec: FusionSpec,
        train: Dataset,
        validation: Dataset?,
        folds: Int,
        configuration: TrainingConfiguration,
        initialParameters: [String: Matrix],
        branches precomputed: CrossFittedBranches?,
        onEpoch: (EpochReport) throws -> Bool
    ) throws -> TrainingResult {
        let names = spec.crossFittableModalities
        let branches: CrossFittedBranches
        if let precomputed, precomputed.folds == folds, precomputed.seed == configuration.seed,
            precomputed.branches.map(\.modality) == names, precomputed.dataFingerprint == train.fingerprint
        {
            branches = precomputed
        } else {
            branches = try CrossFittedBranches.fit(train, modalities: names, folds: folds, seed: configuration.seed)
        }
        let headSpec = spec.headSpec(replacing: names)
        try headSpec.validate()
        let head = try Self.train(
            spec: headSpec,
            train: branches.outOfFold,
            validation: try validation.map(branches.transform),
            configuration: configuration,
            initialParameters: initialParameters,
            inputsAreHeldOut: true,
            onEpoch: onEpoch
        )
        var full = spec
        full.branchFolds = folds
        for b in branches.branches {
            let i = full.modalities.firstIndex { $0.name == b.modality }!
            full.modalities[i].l2 = Float(b.l2)
        }
        var parameters = head.model.parameters
        for b in branches.branches { parameters.merge(b.parameters) { $1 } }
        return TrainingResult(
            model: try FusedClassifier(spec: full, parameters: parameters),
            epochs: head.epochs,
            bestEpoch: head.bestEpoch,
            stoppedEarly: head.stoppedEarly,
            validation: validation,
            train: train,
            branches: branches
        )
    }
}
