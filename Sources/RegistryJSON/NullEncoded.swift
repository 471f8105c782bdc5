/// An optional that is written as `null` when absent, never left out: the keys of a JSON shape are
/// always the same, whatever the values.
@propertyWrapper
public struct NullEncoded<Value: Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// Only finite numbers: JSON has no NaN or infinity.
func finite(_ values: [String: Double]) -> [String: Double] { values.filter { $0.value.isFinite } }
