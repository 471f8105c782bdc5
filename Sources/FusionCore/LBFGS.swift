/// Limited-memory BFGS (Nocedal and Wright, *Numerical Optimization*, algorithms 7.4 and 7.5),
/// the quasi-Newton method scikit-learn fits logistic regressions with.
///
/// Each iteration builds the direction `d = −H g` by the two-loop recursion over the last
/// ``memory`` pairs `(s, y) = (x_{k+1} − x_k, g_{k+1} − g_k)` (pairs with `sᵀy ≤ 0` are skipped,
/// keeping `H` positive definite), with `H₀ = (sᵀy / yᵀy) I`; the step length backtracks by halves
/// from 1 until the Armijo condition `f(x + αd) ≤ f(x) + 10⁻⁴ α gᵀd` holds. It stops when
/// `max|g_i| ≤ gradientTolerance`, when no step along `d` lowers `f` (converged to the precision of
/// the objective), or after `maxIterations`.
struct LBFGS {
    var memory = 10
    var maxIterations: Int
    var gradientTolerance: Double

    /// Why ``minimize(from:objective:onIteration:)`` stopped.
    enum Stop: Equatable { case gradientTolerance, noDecrease, maxIterations, cancelled }

    /// Minimises `objective` (value and gradient) from `x`. `onIteration(k, f, x)` is called after
    /// each accepted step (k from 1), right after `objective` was evaluated at that `x` (the last
    /// evaluation is always the accepted point); returning false stops with ``Stop/cancelled``.
    func minimize(
        from start: [Double],
        objective: ([Double]) throws -> (Double, [Double]),
        onIteration: (Int, Double, [Double]) throws -> Bool
    ) rethrows -> (x: [Double], value: Double, iterations: Int, stop: Stop) {
        var x = start
        var (f, g) = try objective(x)
        var pairs: [(s: [Double], y: [Double], rho: Double)] = []
        for k in 1...max(maxIterations, 1) {
            if Self.maxNorm(g) <= gradientTolerance { return (x, f, k - 1, .gradientTolerance) }
            let d = direction(g, pairs)
            let slope = Self.dot(g, d)
            guard slope < 0 else { return (x, f, k - 1, .noDecrease) }
            var alpha = 1.0
            var accepted: (x: [Double], f: Double, g: [Double])?
            for _ in 0..<40 {
                let candidate = zip(x, d).map { $0 + alpha * $1 }
                let (fc, gc) = try objective(candidate)
                if fc.isFinite, fc <= f + 1e-4 * alpha * slope {
                    accepted = (candidate, fc, gc)
                    break
                }
                alpha /= 2
            }
            guard let step = accepted, step.f < f else { return (x, f, k - 1, .noDecrease) }
            let s = zip(step.x, x).map { $0 - $1 }
            let y = zip(step.g, g).map { $0 - $1 }
            let sy = Self.dot(s, y)
            if sy > 1e-12 {
                pairs.append((s, y, 1 / sy))
                if pairs.count > memory { pairs.removeFirst() }
            }
            (x, f, g) = step
            guard try onIteration(k, f, x) else { return (x, f, k, .cancelled) }
        }
        return (x, f, maxIterations, Self.maxNorm(g) <= gradientTolerance ? .gradientTolerance : .maxIterations)
    }

    /// `−H g` by the two-loop recursion.
    private func direction(_ g: [Double], _ pairs: [(s: [Double], y: [Double], rho: Double)]) -> [Double] {
        var q = g
        var alphas = [Double](repeating: 0, count: pairs.count)
        for i in pairs.indices.reversed() {
            alphas[i] = pairs[i].rho * Self.dot(pairs[i].s, q)
            for j in q.indices { q[j] -= alphas[i] * pairs[i].y[j] }
        }
        if let last = pairs.last {
            let gamma = Self.dot(last.s, last.y) / Self.dot(last.y, last.y)
            for j in q.indices { q[j] *= gamma }
        } else {
            // First step: a unit step of at most 1 in the largest coordinate.
            let scale = 1 / max(Self.maxNorm(g), 1)
            for j in q.indices { q[j] *= scale }
        }
        for i in pairs.indices {
            let beta = pairs[i].rho * Self.dot(pairs[i].y, q)
            for j in q.indices { q[j] += pairs[i].s[j] * (alphas[i] - beta) }
        }
        return q.map { -$0 }
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    static func maxNorm(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }
}
