import RealModule
import TensorCore

/// One forward pass over a batch, with everything the backward pass needs.
struct ForwardPass {
    var branchCaches: [BranchCache?]
    var operatorCache: OperatorCache
    var headCaches: [LayerCache]
    /// The model's raw output: probabilities (unnormalised), logits, or regression values.
    var output: Matrix
}

/// The computation a spec describes: branches → operator → head. Parameters are passed in, so
/// the same network serves training (with gradients) and inference.
struct FusionNetwork {
    let spec: FusionSpec

    /// Runs the model on a batch. `inputs[m]` is modality `m`'s rows, or `nil` when absent.
    func forward(
        _ inputs: [Matrix?],
        parameters: [String: Matrix],
        training: Bool,
        rng: inout SeededRandom
    ) -> ForwardPass {
        let (h, branchCaches) = branchOutputs(inputs, parameters: parameters, training: training, rng: &rng)
        let (fused, operatorCache) = spec.fusionOperator.fuse(h, parameters: parameters)
        let (output, headCaches) = forwardLayers(
            spec.head,
            prefix: "head",
            fused,
            parameters: parameters,
            training: training,
            rng: &rng
        )
        return ForwardPass(
            branchCaches: branchCaches,
            operatorCache: operatorCache,
            headCaches: headCaches,
            output: output
        )
    }

    /// Each present modality through its branch: the outputs `h_m` the operator combines.
    func branchOutputs(
        _ inputs: [Matrix?],
        parameters: [String: Matrix],
        training: Bool,
        rng: inout SeededRandom
    ) -> (outputs: [Matrix?], caches: [BranchCache?]) {
        var caches: [BranchCache?] = []
        var h: [Matrix?] = []
        for (m, x) in inputs.enumerated() {
            guard let x else {
                caches.append(nil)
                h.append(nil)
                continue
            }
            let (out, cache) = spec.modalities[m].forward(x, parameters: parameters, training: training, rng: &rng)
            h.append(out)
            caches.append(cache)
        }
        return (h, caches)
    }

    /// How the output is read: probabilities to normalise, logits to softmax, or values.
    var outputSpace: OutputSpace {
        if spec.task == .regression { return .vector }
        return spec.head.isEmpty ? spec.method.operatorType.outputSpace : .logits
    }

    /// The loss of a forward pass and `∂L/∂output`; adds the L2 penalty `λ/2 Σ K²` over kernels.
    func loss(_ pass: ForwardPass, targets: Targets, parameters: [String: Matrix]) -> (Double, Matrix) {
        var (value, gradient): (Double, Matrix)
        switch (targets, outputSpace) {
        case (.values(let t), _): (value, gradient) = Loss.meanSquaredError(pass.output, targets: t)
        case (.classes(let y), .logits): (value, gradient) = Loss.logitCrossEntropy(pass.output, labels: y)
        case (.classes(let y), _): (value, gradient) = Loss.probabilityCrossEntropy(pass.output, labels: y)
        }
        for (name, l2) in l2Strengths {
            value += Double(l2 / 2) * Double(parameters[name]!.values.reduce(0) { $0 + $1 * $1 })
        }
        return (value, gradient)
    }

    /// The kernels the L2 penalty applies to, with their strength: a branch's own
    /// ``ModalitySpec/l2`` when it has one, else ``FusionSpec/l2``; kernels at strength 0 are left out.
    var l2Strengths: [(name: String, l2: Float)] {
        let names = spec.parameterShapes.map(\.name).filter { $0.hasSuffix("kernel") && !$0.hasPrefix("fusion.gate") }
        var own: [String: Float] = [:]
        for m in spec.modalities {
            guard let l2 = m.l2 else { continue }
            let dense = m.layers.filter { if case .dense = $0 { true } else { false } }.count
            for i in 0..<dense { own["branch.\(m.name).dense\(i).kernel"] = l2 }
        }
        return names.map { ($0, own[$0] ?? spec.l2) }.filter { $0.l2 > 0 }
    }

    /// `∂L/∂θ` for every trainable parameter reached by the pass.
    func backward(_ pass: ForwardPass, _ gradient: Matrix, parameters: [String: Matrix]) -> [String: Matrix] {
        var gradients: [String: Matrix] = [:]
        // Gradients flow only as far as something learns: skip ∂L/∂fused and ∂L/∂h_m otherwise.
        let branchesLearn = spec.modalities.contains(where: \.hasParameters)
        let fusion = spec.fusionOperator
        guard
            let dFused = backwardLayers(
                pass.headCaches,
                gradient,
                parameters: parameters,
                gradients: &gradients,
                needInputGradient: branchesLearn || !fusion.parameterShapes.isEmpty
            )
        else { return withL2(gradients, parameters) }
        let dh = fusion.fuseBackward(
            pass.operatorCache,
            dFused,
            parameters: parameters,
            gradients: &gradients,
            needInputGradients: branchesLearn
        )
        if branchesLearn {
            for (m, cache) in pass.branchCaches.enumerated() {
                guard let cache else { continue }
                spec.modalities[m].backward(cache, dh[m], parameters: parameters, gradients: &gradients)
            }
        }
        return withL2(gradients, parameters)
    }

    private func withL2(_ gradients: [String: Matrix], _ parameters: [String: Matrix]) -> [String: Matrix] {
        var gradients = gradients
        for (name, l2) in l2Strengths { accumulate(&gradients, name, parameters[name]! * l2) }
        return gradients
    }

    /// Turns raw outputs into what a user reads: class probabilities (rows sum to 1), or values.
    func probabilities(_ output: Matrix) -> Matrix {
        switch outputSpace {
        case .logits: return output.softmaxRows()
        case .vector: return output
        case .probabilities:
            var p = output
            let n = p.columns
            for i in 0..<p.rows {
                var s: Float = 0
                for k in 0..<n { s += p.values[i * n + k] }
                for k in 0..<n { p.values[i * n + k] /= s }
            }
            return p
        }
    }
}
