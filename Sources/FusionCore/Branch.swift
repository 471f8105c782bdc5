import RealModule
import TensorCore

/// One modality's branch: optional standardisation, optional temperature, then layers.
struct BranchCache {
    /// `v = x̃ / T` and `h = softmax(v)` when a temperature applies.
    var temperature: (scaled: Matrix, output: Matrix)?
    var layers: [LayerCache]
}

extension ModalitySpec {
    /// `h = layers(softmax(x̃ / T))` where `x̃` is `log p` for probabilities, the logits for
    /// logits, and `(x − μ)/σ` for standardised features; steps not in the spec are skipped.
    func forward(
        _ x: Matrix,
        parameters: [String: Matrix],
        training: Bool,
        rng: inout SeededRandom
    ) -> (Matrix, BranchCache) {
        let prefix = "branch.\(name)"
        var h = x
        if standardize { h = h.standardized(mean: parameters["\(prefix).mean"]!, std: parameters["\(prefix).std"]!) }
        var cache = BranchCache(temperature: nil, layers: [])
        if temperature {
            let inverse = Float.exp(-parameters["\(prefix).log_temperature"]!.values[0])
            let scaled = (kind == .probs ? clampedLog(h) : h) * inverse
            h = scaled.softmaxRows()
            cache.temperature = (scaled, h)
        }
        let (out, layerCaches) = forwardLayers(
            layers,
            prefix: prefix,
            h,
            parameters: parameters,
            training: training,
            rng: &rng
        )
        cache.layers = layerCaches
        return (out, cache)
    }

    /// Adds the branch's parameter gradients. With `T = exp(τ)`, `v = x̃·e^(−τ)` and
    /// `h = softmax(v)`: `∂L/∂τ = −Σ (∂L/∂v ⊙ v)`.
    func backward(
        _ cache: BranchCache,
        _ gradient: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix]
    ) {
        let needInput = cache.temperature != nil
        guard
            let g = backwardLayers(
                cache.layers,
                gradient,
                parameters: parameters,
                gradients: &gradients,
                needInputGradient: needInput
            ),
            let (scaled, output) = cache.temperature
        else { return }
        let dv = softmaxBackward(output, g)
        var dTau: Float = 0
        for i in dv.values.indices { dTau -= dv.values[i] * scaled.values[i] }
        accumulate(&gradients, "branch.\(name).log_temperature", Matrix(rows: 1, columns: 1, values: [dTau]))
    }
}
