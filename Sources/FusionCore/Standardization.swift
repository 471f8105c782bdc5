import TensorCore

extension Matrix {
    /// Each column's mean `μ` and standard deviation `σ` (population, `1/n`), as 1 × d rows; a
    /// deviation below 10⁻⁶ becomes 1 so a constant column passes through centred.
    func standardization() -> (mean: Matrix, std: Matrix) {
        var sum = [Double](repeating: 0, count: columns)
        var square = [Double](repeating: 0, count: columns)
        for i in 0..<rows {
            for j in 0..<columns {
                let v = Double(values[i * columns + j])
                sum[j] += v
                square[j] += v * v
            }
        }
        let n = Double(Swift.max(rows, 1))
        let mu = sum.map { $0 / n }
        let sd = zip(square, mu).map { (($0 / n) - $1 * $1).squareRoot() }
        return (
            Matrix(rows: 1, columns: columns, values: mu.map { Float($0) }),
            Matrix(rows: 1, columns: columns, values: sd.map { $0 < 1e-6 ? 1 : Float($0) })
        )
    }

    /// `(x − μ)/σ` column by column.
    func standardized(mean: Matrix, std: Matrix) -> Matrix {
        var out = self
        for i in 0..<rows {
            for j in 0..<columns {
                out.values[i * columns + j] = (values[i * columns + j] - mean.values[j]) / std.values[j]
            }
        }
        return out
    }
}
