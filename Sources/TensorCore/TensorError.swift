/// An error about tensor data: a shape or byte count that does not fit, or an unsupported conversion.
public struct TensorError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String { case invalidShape, byteCountMismatch, unsupportedConversion, nonFinite }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }
        public static var invalidShape: Self { Self(.invalidShape) }
        public static var byteCountMismatch: Self { Self(.byteCountMismatch) }
        public static var unsupportedConversion: Self { Self(.unsupportedConversion) }
        public static var nonFinite: Self { Self(.nonFinite) }
        public var description: String { wrapped.rawValue }
    }

    public var code: Code
    /// A sentence a user can act on.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
