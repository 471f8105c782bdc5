import Foundation

/// A number as tables, charts and descriptions print it: 4 decimals, or an integer when whole.
public func formatNumber(_ x: Double) -> String {
    if x == x.rounded() && abs(x) < 1e12 { return String(Int64(x)) }
    return String(format: "%.4f", x)
}
