/// An error about tensor data: a shape or byte count that does not fit, or an unsupported conversion.
public struct TensorError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String { case invalidShape, byteCountMismatch, unsupportedConversion, nonFinite }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }
        /// A dimension is negative or the element count overflows.
        public static var invalidShape: Self { Self(.invalidShape) }
        /// The byte count is not `elementCount × byteSize`.
        public static var byteCountMismatch: Self { Self(.byteCountMismatch) }
        /// The dtype or rank cannot be converted to what was asked (a ``Matrix`` is rank 2 at most).
        public static var unsupportedConversion: Self { Self(.unsupportedConversion) }
        /// A value is NaN or infinite where only finite values are allowed.
        public static var nonFinite: Self { Self(.nonFinite) }
        /// The code's name, as in `invalidShape`.
        public var description: String { wrapped.rawValue }
    }

    /// What kind of problem this is.
    public var code: Code
    /// A sentence a user can act on.
    public var message: String

    /// Creates an error with its code and a message a user can act on.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
