/// A problem reading or writing a tensor file. The message names the file and what is wrong.
public struct TensorIOError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String {
            case fileNotFound, io, truncated, invalidHeader, invalidOffsets, unknownDType, duplicateName,
                unsupported, invalidCSV, missingTensor, alreadyExists, changed
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }
        /// The file does not exist.
        public static var fileNotFound: Self { Self(.fileNotFound) }
        /// A system call failed (the reason gives `errno`'s text).
        public static var io: Self { Self(.io) }
        /// The file ends before its header or data says it should.
        public static var truncated: Self { Self(.truncated) }
        /// The header is not valid (bad JSON, a wrong magic string, a field out of range).
        public static var invalidHeader: Self { Self(.invalidHeader) }
        /// Tensor byte ranges overlap, leave gaps or run past the data section.
        public static var invalidOffsets: Self { Self(.invalidOffsets) }
        /// A dtype the format does not define.
        public static var unknownDType: Self { Self(.unknownDType) }
        /// Two tensors (or two arrays of an `.npz`) share a name.
        public static var duplicateName: Self { Self(.duplicateName) }
        /// Valid in the format, but not supported here (for example a big-endian or Fortran-order `.npy`).
        public static var unsupported: Self { Self(.unsupported) }
        /// A CSV file that is ragged, empty or has a non-numeric value.
        public static var invalidCSV: Self { Self(.invalidCSV) }
        /// A tensor asked for by name is not in the file.
        public static var missingTensor: Self { Self(.missingTensor) }
        /// The output file exists and overwriting was not asked for.
        public static var alreadyExists: Self { Self(.alreadyExists) }
        /// The file was written to while it was being read (its size or modification time moved).
        public static var changed: Self { Self(.changed) }
        /// The code's name, as in `truncated`.
        public var description: String { wrapped.rawValue }
    }

    /// What kind of problem this is.
    public var code: Code
    /// The file concerned.
    public var path: String
    /// What is wrong, without the path.
    public var reason: String

    /// Creates an error about the file at `path`; `reason` says what is wrong without the path.
    public init(_ code: Code, path: String, _ reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    /// `'path': reason` — one line a user can act on.
    public var description: String { "'\(path)': \(reason)" }
}
