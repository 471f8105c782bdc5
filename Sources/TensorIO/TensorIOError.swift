/// A problem reading or writing a tensor file. The message names the file and what is wrong.
public struct TensorIOError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String {
            case fileNotFound, io, truncated, invalidHeader, invalidOffsets, unknownDType, duplicateName,
                unsupported, invalidCSV, missingTensor, alreadyExists
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }
        public static var fileNotFound: Self { Self(.fileNotFound) }
        public static var io: Self { Self(.io) }
        public static var truncated: Self { Self(.truncated) }
        public static var invalidHeader: Self { Self(.invalidHeader) }
        public static var invalidOffsets: Self { Self(.invalidOffsets) }
        public static var unknownDType: Self { Self(.unknownDType) }
        public static var duplicateName: Self { Self(.duplicateName) }
        public static var unsupported: Self { Self(.unsupported) }
        public static var invalidCSV: Self { Self(.invalidCSV) }
        public static var missingTensor: Self { Self(.missingTensor) }
        public static var alreadyExists: Self { Self(.alreadyExists) }
        public var description: String { wrapped.rawValue }
    }

    public var code: Code
    /// The file concerned.
    public var path: String
    /// What is wrong, without the path.
    public var reason: String

    public init(_ code: Code, path: String, _ reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    /// `'path': reason` — one line a user can act on.
    public var description: String { "'\(path)': \(reason)" }
}
