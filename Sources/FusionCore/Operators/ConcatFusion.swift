import TensorCore

extension FusionMethod {
    /// Keras `Concatenate` followed by `Dense(C)`.
    public static let concat = FusionMethod(named: "concat")
}

/// The branch outputs side by side, `f = [h_1 … h_M]` (an absent modality is the uniform vector
/// `1/W_m`), feeding a head; by default `Dense(C)`, a linear map of all outputs.
struct ConcatFusion: FusionOperator {
    static let method = FusionMethod.concat
    static let fitting = OperatorFitting.none
    static let inputs = OperatorInputs.concatenated
    static let outputSpace = OutputSpace.vector
    static let absentModality = AbsentModalityHandling.refused
    let context: FusionContext
    init(_ context: FusionContext) { self.context = context }

    static func defaultHead(classes: Int, hidden: Int, dropout: Float, regression: Bool) -> [LayerSpec] {
        regression ? [] : [.dense(units: classes)]
    }

    func forward(_ h: [Matrix?], parameters: [String: Matrix]) -> (Matrix, Void) {
        (Concatenation(widths: context.branchWidths).forward(h), ())
    }

    func backward(
        _ h: [Matrix],
        _ cache: Void,
        _ g: Matrix,
        parameters: [String: Matrix],
        gradients: inout [String: Matrix],
        needInputGradients: Bool
    ) -> [Matrix] {
        Concatenation(widths: context.branchWidths).backward(g)
    }

    func weights(
        parameters: [String: Matrix],
        modalities: [String],
        branchOutputs: () -> [Matrix?]?
    ) -> [FusionWeights.Entry] { [] }
}

/// Row-wise concatenation of matrices of the given widths, and its backward pass (the split).
struct Concatenation {
    var widths: [Int]

    /// `[h_1 … h_M]` (every modality is present: the methods that concatenate refuse absent ones).
    func forward(_ h: [Matrix?]) -> Matrix {
        let rows = h[0]!.rows
        let total = widths.reduce(0, +)
        var f = [Float](repeating: 0, count: rows * total)
        var offset = 0
        f.withUnsafeMutableBufferPointer { out in
            for (m, w) in widths.enumerated() {
                h[m]!.values.withUnsafeBufferPointer { src in
                    for i in 0..<rows {
                        let (dst, row) = (out.baseAddress! + i * total + offset, src.baseAddress! + i * w)
                        for k in 0..<w { dst[k] = row[k] }
                    }
                }
                offset += w
            }
        }
        return Matrix(rows: rows, columns: total, values: f)
    }

    /// Splits `g` back into one block per modality.
    func backward(_ g: Matrix) -> [Matrix] {
        let total = widths.reduce(0, +)
        var offset = 0
        return widths.map { w in
            var d = Matrix(rows: g.rows, columns: w)
            for i in 0..<g.rows { for k in 0..<w { d.values[i * w + k] = g.values[i * total + offset + k] } }
            offset += w
            return d
        }
    }
}
