import RealModule
import TensorCore

/// Generated modality outputs that behave like real ones, for the demo and tests.
///
/// The generator of ../shared/anchors/keras/fusion_bench.py: labels uniform over the classes;
/// for each modality, probabilities `softmax(scale · z)` with
/// `z = noise·N(0, I) + signal[y]·e_y + confusion·e_(y+shift mod C)`.
/// `image` is reliable (signal 2.0, confusion 1.0 onto y+1, scale 1); `text` is weaker and
/// over-confident (signal falling from 2.4 to 0.4 across classes, confusion 0.8 onto y−1,
/// scale 3), so its reliability depends on the class.
public enum SyntheticData {
    /// The ten class names of the synthetic datasets (CIFAR-10's, abbreviated).
    public static let classNames = ["cat", "dog", "car", "ship", "plane", "bird", "horse", "truck", "frog", "deer"]

    /// `samples` rows split into train (the first 80 %) and test.
    public static func imageText(
        samples: Int = 20_000,
        classes: Int = 10,
        seed: UInt64 = 0
    ) throws -> (train: Dataset, test: Dataset) {
        precondition(classes >= 2 && classes <= classNames.count)
        var rng = SeededRandom(seed: seed)
        let labels = (0..<samples).map { _ in rng.index(below: classes) }
        func normal() -> Double {
            let u1 = Double(max(rng.unitFloat(), 1e-7))
            let u2 = Double(rng.unitFloat())
            return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * .pi * u2)
        }
        func modality(signal: (Int) -> Double, confusion: Double, shift: Int, scale: Double) -> Matrix {
            var values = [Float]()
            values.reserveCapacity(samples * classes)
            for y in labels {
                var z = (0..<classes).map { _ in normal() }
                z[y] += signal(y)
                z[(y + shift) % classes] += confusion
                let m = z.map { $0 * scale }.max()!
                let e = z.map { Double.exp($0 * scale - m) }
                let s = e.reduce(0, +)
                values += e.map { Float($0 / s) }
            }
            return Matrix(rows: samples, columns: classes, values: values)
        }
        let image = modality(signal: { _ in 2.0 }, confusion: 1.0, shift: 1, scale: 1)
        let text = modality(
            signal: { 2.4 - 2.0 * Double($0) / Double(classes - 1) },
            confusion: 0.8,
            shift: classes - 1,
            scale: 3
        )
        let all = try Dataset(
            modalities: [
                ModalityInput(name: "image", kind: .probs, values: image),
                ModalityInput(name: "text", kind: .probs, values: text),
            ],
            targets: .classes(labels),
            classCount: classes,
            classNames: Array(classNames.prefix(classes))
        )
        let cut = samples * 4 / 5
        return (all.subset(Array(0..<cut)), all.subset(Array(cut..<samples)))
    }
}
