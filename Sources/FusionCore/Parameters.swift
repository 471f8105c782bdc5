import RealModule
import TensorCore

/// A parameter tensor's name, shape, and whether training changes it.
public struct ParameterShape: Sendable, Hashable {
    /// The tensor's name, as in `fusion.weights` or `head.dense0.kernel`.
    public let name: String
    /// The number of rows (a vector is one row).
    public let rows: Int
    /// The number of columns.
    public let columns: Int
    /// False for statistics such as the standardisation mean and deviation.
    public let trainable: Bool
}

extension FusionSpec {
    /// Every parameter tensor the spec implies, in a fixed order. Names:
    ///
    /// - `branch.NAME.log_temperature` (1×1), `branch.NAME.mean` / `.std` (1×d, not trainable),
    ///   `branch.NAME.denseI.kernel` (in×units) / `.bias` (1×units);
    /// - `fusion.*`: the operator's own tensors, declared in its file under `Operators/` (e.g.
    ///   `fusion.weights`, 1×M raw weights, for weighted-average);
    /// - `head.denseI.kernel` / `.bias`.
    public var parameterShapes: [ParameterShape] {
        var out: [ParameterShape] = []
        for m in modalities {
            let prefix = "branch.\(m.name)"
            if m.temperature {
                out.append(.init(name: "\(prefix).log_temperature", rows: 1, columns: 1, trainable: true))
            }
            if m.standardize {
                out.append(.init(name: "\(prefix).mean", rows: 1, columns: m.width, trainable: false))
                out.append(.init(name: "\(prefix).std", rows: 1, columns: m.width, trainable: false))
            }
            out += Self.denseShapes(m.layers, input: m.width, prefix: prefix)
        }
        out += fusionOperator.parameterShapes
        out += Self.denseShapes(head, input: fusedWidth, prefix: "head")
        return out
    }

    /// The width of the operator's output: the sum of branch widths for a concatenation, else one branch's width.
    var fusedWidth: Int {
        let widths = modalities.map(branchWidth)
        return method.operatorType.inputs == .concatenated ? widths.reduce(0, +) : widths.first ?? 0
    }

    private static func denseShapes(_ layers: [LayerSpec], input: Int, prefix: String) -> [ParameterShape] {
        var out: [ParameterShape] = []
        var width = input
        var index = 0
        for case .dense(let units) in layers {
            out.append(.init(name: "\(prefix).dense\(index).kernel", rows: width, columns: units, trainable: true))
            out.append(.init(name: "\(prefix).dense\(index).bias", rows: 1, columns: units, trainable: true))
            width = units
            index += 1
        }
        return out
    }

    /// Fresh parameters: Glorot-uniform Dense kernels, zero biases, standardisation statistics 0
    /// and 1 until fitted, and the operator's own starting values (its
    /// `initialParameters(rng:)`), drawn in ``parameterShapes`` order.
    public func initialParameters(seed: UInt64) -> [String: Matrix] {
        var rng = SeededRandom(seed: seed)
        let fusion = fusionOperator
        let own = Set(fusion.parameterShapes.map(\.name))
        var out: [String: Matrix] = [:]
        for p in parameterShapes {
            if own.contains(p.name) {
                if out[p.name] == nil { out.merge(fusion.initialParameters(rng: &rng)) { $1 } }
            } else if p.name.hasSuffix(".kernel") {
                out[p.name] = glorotUniform(rows: p.rows, columns: p.columns, rng: &rng)
            } else if p.name.hasSuffix(".std") {
                out[p.name] = Matrix(rows: p.rows, columns: p.columns, repeating: 1)
            } else {
                out[p.name] = Matrix(rows: p.rows, columns: p.columns)
            }
        }
        return out
    }
}

/// A Glorot-uniform matrix: entries uniform in `±√(6 / (rows + columns))`.
func glorotUniform(rows: Int, columns: Int, rng: inout SeededRandom) -> Matrix {
    let limit = (6 / Float(rows + columns)).squareRoot()
    return Matrix(
        rows: rows,
        columns: columns,
        values: (0..<rows * columns).map { _ in (rng.unitFloat() * 2 - 1) * limit }
    )
}
