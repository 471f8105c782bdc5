import Foundation
import FusionCore
import TensorCore

/// Multi-view feature data, like a real multi-view set: labels uniform over `classes`; view `v`
/// has `width` columns, `x = signal_v · μ[y] + N(0, I)` with fixed random class means `μ`
/// (entries ±1) and a signal that falls from 1 (view 0) to 0.25 (the last view), so views differ
/// in how much they know. `randomLabels` draws the labels independently of `x` (pure noise).
public func featureViews(
    samples: Int,
    views: Int = 3,
    width: Int = 8,
    classes: Int = 3,
    randomLabels: Bool = false,
    seed: UInt64 = 0
) throws -> Dataset {
    var rng = TestRandom(seed: seed)
    let means = (0..<views).map { _ in
        (0..<classes).map { _ in (0..<width).map { _ in Bool.random(using: &rng) ? Float(1) : -1 } }
    }
    let labels = (0..<samples).map { _ in Int.random(in: 0..<classes, using: &rng) }
    func normal() -> Float {
        let u1 = Float.random(in: Float.ulpOfOne..<1, using: &rng)
        let u2 = Float.random(in: 0..<1, using: &rng)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
    let modalities = (0..<views).map { v -> ModalityInput in
        let signal = 1 - 0.75 * Float(v) / Float(max(views - 1, 1))
        var values: [Float] = []
        for y in labels { values += means[v][y].map { signal * $0 + normal() } }
        return ModalityInput(
            name: "view\(v)",
            kind: .features,
            values: Matrix(rows: samples, columns: width, values: values)
        )
    }
    let targets = randomLabels ? (0..<samples).map { _ in Int.random(in: 0..<classes, using: &rng) } : labels
    return try Dataset(modalities: modalities, targets: .classes(targets), classCount: classes)
}
