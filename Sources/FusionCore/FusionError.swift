/// An error from the fusion engine: invalid data, an inconsistent spec, or a refused request.
public struct FusionError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String { case invalidData, invalidSpec, missingModality, cancelled }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }
        public static var invalidData: Self { Self(.invalidData) }
        public static var invalidSpec: Self { Self(.invalidSpec) }
        public static var missingModality: Self { Self(.missingModality) }
        public static var cancelled: Self { Self(.cancelled) }
        public var description: String { wrapped.rawValue }
    }

    public var code: Code
    /// One sentence a user can act on.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
