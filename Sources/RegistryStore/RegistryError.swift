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
        /// A model, version, alias, run or record that does not exist.
        public static var notFound: Self { Self(.notFound) }
        /// A name or alias that is taken, where a new one was asked for.
        public static var alreadyExists: Self { Self(.alreadyExists) }
        /// Input that is refused: a bad name, a malformed query, data that does not fit the model.
        public static var invalidInput: Self { Self(.invalidInput) }
        /// Stored bytes that do not match their digest, or a record that cannot be read.
        public static var corruptData: Self { Self(.corruptData) }
        /// The store was written by a newer Fusebox (it has migrations this binary does not know).
        public static var schemaTooNew: Self { Self(.schemaTooNew) }
        /// A read-only open of a store that needs a schema upgrade first.
        public static var schemaTooOld: Self { Self(.schemaTooOld) }
        /// The request is valid but the store's state forbids it (a run that is still running, an alias in use, a failing gate).
        public static var conflict: Self { Self(.conflict) }
        /// The file system failed (the message names the file).
        public static var io: Self { Self(.io) }
        /// The code's name, as in `notFound`.
        public var description: String { wrapped.rawValue }
    }

    /// What kind of problem this is.
    public var code: Code
    /// One or two sentences, shown as-is by the CLI.
    public var message: String
    /// The underlying error, for `--verbose` and logs.
    public var cause: (any Error)?

    /// Creates an error with its code, a message a user can act on, and the underlying error if any.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The message.
    public var description: String { message }
}
