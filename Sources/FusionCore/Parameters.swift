import RealModule
import TensorCore

/// A parameter tensor's name, shape, and whether training changes it.
public struct ParameterShape: Sendable, Hashable {
    public let name: String
    public let rows: Int
    public let columns: Int
    /// False for statistics such as the standardisation mean and deviation.
    public let trainable: Bool
}

extension FusionSpec {
    /// Every parameter tensor the spec implies, in a fixed order. Names:
    ///
    /// - `branch.NAME.log_temperature` (1×1), `branch.NAME.mean` / `.std` (1×d, not trainable),
    ///   `branch.NAME.denseI.kernel` (in×units) / `.bias` (1×units);
    /// - `fusion.weights`: 1×M raw weights (weighted-average, log-linear) or M×C (class-weighted);
    ///   `fusion.bias` (1×C, log-linear and stacking); `fusion.kernel` (M·C×C, stacking);
    ///   `fusion.gate.kernel` (2M×M) and `fusion.gate.bias` (1×M) for gated;
    /// - `head.denseI.kernel` / `.bias`.
    public var parameterShapes: [ParameterShape] {
        var out: [ParameterShape] = []
        for m in modalities {
            let prefix = "branch.\(m.name)"
            if m.temperature { out.append(.init(name: "\(prefix).log_temperature", rows: 1, columns: 1, trainable: true)) }
            if m.standardize {
                out.append(.init(name: "\(prefix).mean", rows: 1, columns: m.width, trainable: false))
                out.append(.init(name: "\(prefix).std", rows: 1, columns: m.width, trainable: false))
            }
            out += Self.denseShapes(m.layers, input: m.width, prefix: prefix)
        }
        let count = modalities.count
        switch method {
        case .weightedAverage: out.append(.init(name: "fusion.weights", rows: 1, columns: count, trainable: true))
        case .classWeightedAverage: out.append(.init(name: "fusion.weights", rows: count, columns: classCount, trainable: true))
        case .logLinear:
            out.append(.init(name: "fusion.weights", rows: 1, columns: count, trainable: true))
            out.append(.init(name: "fusion.bias", rows: 1, columns: classCount, trainable: true))
        case .stacking:
            out.append(.init(name: "fusion.kernel", rows: count * classCount, columns: classCount, trainable: true))
            out.append(.init(name: "fusion.bias", rows: 1, columns: classCount, trainable: true))
        case .gated:
            out.append(.init(name: "fusion.gate.kernel", rows: 2 * count, columns: count, trainable: true))
            out.append(.init(name: "fusion.gate.bias", rows: 1, columns: count, trainable: true))
        default: break
        }
        out += Self.denseShapes(head, input: fusedWidth, prefix: "head")
        return out
    }

    /// The width of the operator's output: the sum of branch widths for concat, else one branch's width.
    var fusedWidth: Int {
        let widths = modalities.map(branchWidth)
        return method == .concat || method == .concatMLP ? widths.reduce(0, +) : widths.first ?? 0
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

    /// Fresh parameters: Glorot-uniform Dense kernels, zero biases, raw fusion weights uniform
    /// in [0, 1) (like the original Keras layer), temperatures 1, gates zero (uniform weights),
    /// stacking starting at the normalised product rule (`K = [I; I; …]/M`), log-linear weights at
    /// softplus⁻¹(1/M). Standardisation statistics are 0 and 1 until fitted.
    public func initialParameters(seed: UInt64) -> [String: Matrix] {
        var rng = SeededRandom(seed: seed)
        var out: [String: Matrix] = [:]
        let count = Float(modalities.count)
        for p in parameterShapes {
            var m = Matrix(rows: p.rows, columns: p.columns)
            switch p.name {
            case let n where n.hasSuffix(".kernel") && n != "fusion.kernel":
                let limit = (6 / Float(p.rows + p.columns)).squareRoot()
                for i in m.values.indices { m.values[i] = (rng.unitFloat() * 2 - 1) * limit }
            case let n where n.hasSuffix(".std"):
                m = Matrix(rows: p.rows, columns: p.columns, repeating: 1)
            case "fusion.weights" where method != .logLinear:
                for i in m.values.indices { m.values[i] = rng.unitFloat() }
            case "fusion.weights":
                // softplus(a) = 1/M  ⇔  a = log(exp(1/M) − 1)
                m = Matrix(rows: p.rows, columns: p.columns, repeating: Float.log(Float.exp(1 / count) - 1))
            case "fusion.kernel":
                for block in 0..<modalities.count { for k in 0..<classCount { m[block * classCount + k, k] = 1 / count } }
            default: break
            }
            out[p.name] = m
        }
        return out
    }
}
