import Foundation

/// One row a ``StoreSQL`` query returned: its values by position, and by column name looked up
/// without regard to ASCII case (PostgreSQL reports unquoted names in lower case).
public struct StoreRow: Sendable {
    /// The column names, as the database reported them.
    public let columns: [String]
    /// The values, in column order.
    public let values: [StoreValue]

    /// A row of `values` under `columns` (the same count).
    public init(columns: [String], values: [StoreValue]) {
        precondition(columns.count == values.count, "a row has one value per column")
        self.columns = columns
        self.values = values
    }

    /// The position of `column`, compared without regard to ASCII case.
    public func index(of column: String) -> Int? {
        func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }
        return columns.firstIndex { name in
            name.utf8.count == column.utf8.count && zip(name.utf8, column.utf8).allSatisfy { lower($0) == lower($1) }
        }
    }

    /// The value at `index` as `Value`; NULL or another type throws ``RegistryError`` `corruptData`.
    public func decode<Value: StoreConvertible>(_: Value.Type, at index: Int) throws -> Value {
        guard let value = Value.fromStoreValue(values[index]) else {
            throw RegistryError(
                .corruptData,
                "The store holds \(values[index]) in column '\(columns[index])', where \(Value.self) belongs."
            )
        }
        return value
    }

    /// The value at `index`; it must be a `Value` (a NULL or another type is a programming error,
    /// as in GRDB).
    public subscript<Value: StoreConvertible>(_ index: Int) -> Value {
        guard let value = Value.fromStoreValue(values[index]) else {
            preconditionFailure("column '\(columns[index])' holds \(values[index]), not \(Value.self)")
        }
        return value
    }

    /// The value at `index`, or nil for NULL.
    public subscript<Value: StoreConvertible>(_ index: Int) -> Value? {
        if values[index] == .null { return nil }
        return self[index] as Value
    }

    /// The value of `column`; the column must exist and hold a `Value`.
    public subscript<Value: StoreConvertible>(_ column: String) -> Value {
        guard let index = index(of: column) else { preconditionFailure("no column '\(column)' in \(columns)") }
        return self[index]
    }

    /// The value of `column`, or nil for NULL; the column must exist.
    public subscript<Value: StoreConvertible>(_ column: String) -> Value? {
        guard let index = index(of: column) else { preconditionFailure("no column '\(column)' in \(columns)") }
        return self[index]
    }
}

/// A Swift type the store reads and writes as one ``StoreValue``.
public protocol StoreConvertible: Sendable {
    /// The value as stored.
    var storeValue: StoreValue { get }
    /// The Swift value of a stored one, or nil when it is NULL or of another type.
    static func fromStoreValue(_ value: StoreValue) -> Self?
}

extension StoreValue: StoreConvertible {
    /// Itself.
    public var storeValue: StoreValue { self }
    /// Itself, NULL included.
    public static func fromStoreValue(_ value: StoreValue) -> StoreValue? { value }
}

extension Int64: StoreConvertible {
    /// An integer.
    public var storeValue: StoreValue { .integer(self) }
    /// An integer, or a real that is a whole number in range.
    public static func fromStoreValue(_ value: StoreValue) -> Int64? {
        switch value {
        case .integer(let v): v
        case .real(let v): Int64(exactly: v)
        default: nil
        }
    }
}

extension Int: StoreConvertible {
    /// An integer.
    public var storeValue: StoreValue { .integer(Int64(self)) }
    /// An integer, or a real that is a whole number in range.
    public static func fromStoreValue(_ value: StoreValue) -> Int? { Int64.fromStoreValue(value).map(Int.init) }
}

extension Bool: StoreConvertible {
    /// 1 or 0, as both databases store booleans here.
    public var storeValue: StoreValue { .integer(self ? 1 : 0) }
    /// True for a non-zero integer.
    public static func fromStoreValue(_ value: StoreValue) -> Bool? { Int64.fromStoreValue(value).map { $0 != 0 } }
}

extension Double: StoreConvertible {
    /// A real.
    public var storeValue: StoreValue { .real(self) }
    /// A real, or an integer converted.
    public static func fromStoreValue(_ value: StoreValue) -> Double? {
        switch value {
        case .real(let v): v
        case .integer(let v): Double(v)
        default: nil
        }
    }
}

extension String: StoreConvertible {
    /// Text.
    public var storeValue: StoreValue { .text(self) }
    /// Text.
    public static func fromStoreValue(_ value: StoreValue) -> String? {
        if case .text(let v) = value { return v }
        return nil
    }
}

extension Array: StoreConvertible where Element == UInt8 {
    /// Bytes.
    public var storeValue: StoreValue { .bytes(self) }
    /// Bytes.
    public static func fromStoreValue(_ value: StoreValue) -> [UInt8]? {
        if case .bytes(let v) = value { return v }
        return nil
    }
}

extension Data: StoreConvertible {
    /// Bytes.
    public var storeValue: StoreValue { .bytes([UInt8](self)) }
    /// Bytes.
    public static func fromStoreValue(_ value: StoreValue) -> Data? {
        if case .bytes(let v) = value { return Data(v) }
        return nil
    }
}

/// The values bound to a statement's `?` placeholders, in order: written as an array literal of
/// ``StoreConvertible`` values, where nil binds NULL.
public struct StoreArguments: Sendable, ExpressibleByArrayLiteral {
    /// The values, in placeholder order.
    public var values: [StoreValue]

    /// Arguments from stored values.
    public init(_ values: [StoreValue]) { self.values = values }

    /// Arguments from a sequence of values.
    public init<S: Sequence>(_ sequence: S) where S.Element: StoreConvertible {
        values = sequence.map(\.storeValue)
    }

    /// Arguments from a literal; nil binds NULL.
    public init(arrayLiteral elements: (any StoreConvertible)?...) {
        values = elements.map { $0?.storeValue ?? .null }
    }

    /// Both lists, `lhs`'s first.
    public static func + (lhs: StoreArguments, rhs: StoreArguments) -> StoreArguments {
        StoreArguments(lhs.values + rhs.values)
    }

    /// Appends `rhs`'s values.
    public static func += (lhs: inout StoreArguments, rhs: StoreArguments) { lhs.values += rhs.values }
}
