import Foundation
import NIOCore
import PostgresNIO
import RegistryStore

extension PostgresRow {
    /// The row's values as the registry's backends hold them (bigint, double precision, text, bytea;
    /// a boolean as 1 or 0 and a whole numeric as an integer, as SQLite gives them).
    func storeValues() throws -> [StoreValue] {
        try map { cell in
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int8, .int4, .int2: return .integer(try cell.decode(Int64.self))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            case .numeric:
                // sum() of bigints: an integer when whole, as SQLite's sum gives it.
                let number = try cell.decode(Decimal.self)
                let rounded = NSDecimalNumber(decimal: number)
                if number == Decimal(rounded.int64Value) { return .integer(rounded.int64Value) }
                return .real(rounded.doubleValue)
            case .float8, .float4: return .real(try cell.decode(Double.self))
            case .bytea: return .bytes(Array(buffer: try cell.decode(ByteBuffer.self)))
            default: return .text(try cell.decode(String.self))
            }
        }
    }
}
