/// An error from the registry, with a message a user can act on.
///
/// The underlying error (a GRDB `DatabaseError`, a file error) is kept as ``cause`` and shown only
/// with `--verbose`; messages never contain SQL.
public struct RegistryError: Error, CustomStringConvertible, @unchecked Sendable {
    /// What kind of problem this is; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String {
            case notFound, alreadyExists, invalidInput, corruptData, schemaTooNew, schemaTooOld, conflict, io
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }
        public static var notFound: Self { Self(.notFound) }
        public static var alreadyExists: Self { Self(.alreadyExists) }
        public static var invalidInput: Self { Self(.invalidInput) }
        public static var corruptData: Self { Self(.corruptData) }
        public static var schemaTooNew: Self { Self(.schemaTooNew) }
        /// A read-only open of a store that needs a schema upgrade first.
        public static var schemaTooOld: Self { Self(.schemaTooOld) }
        public static var conflict: Self { Self(.conflict) }
        public static var io: Self { Self(.io) }
        public var description: String { wrapped.rawValue }
    }

    public var code: Code
    /// One or two sentences, shown as-is by the CLI.
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}
