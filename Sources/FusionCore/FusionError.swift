/// An error from the fusion engine: invalid data, an inconsistent spec, or a refused request.
public struct FusionError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String { case invalidData, invalidSpec, missingModality, cancelled }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }
        /// The data is unusable: ragged, non-finite, out of range, or not what the spec expects.
        public static var invalidData: Self { Self(.invalidData) }
        /// The spec or a setting is inconsistent (an unknown method, a wrong width, a bad hyper-parameter).
        public static var invalidSpec: Self { Self(.invalidSpec) }
        /// A modality the spec needs is not in the data.
        public static var missingModality: Self { Self(.missingModality) }
        /// Training was stopped by its caller (its task was cancelled).
        public static var cancelled: Self { Self(.cancelled) }
        /// The code's name, as in `invalidData`.
        public var description: String { wrapped.rawValue }
    }

    /// What kind of problem this is.
    public var code: Code
    /// One sentence a user can act on.
    public var message: String

    /// Creates an error with its code and a message a user can act on.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
