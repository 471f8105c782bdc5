import Logging
import RegistryStore

extension StoreAddress {
    /// Opens the store at this address as a `RegistryBackend`: an SQLite file through
    /// `Registry`, a PostgreSQL database through ``PostgresBackend``.
    ///
    /// `createIfMissing` applies to files; a PostgreSQL database must exist (`createdb`), and a
    /// read-write open of an empty one creates the schema in it.
    /// - Throws: `RegistryError`, one line (a missing file, a refused connection or login, a
    ///   schema too new or, read-only, too old).
    public func openBackend(
        access: Registry.Access,
        createIfMissing: Bool = true,
        logger: Logger
    ) throws -> any RegistryBackend {
        switch self {
        case .file(let path):
            try Registry.open(atPath: path, createIfMissing: createIfMissing, access: access, logger: logger).backend
        case .postgres(let address):
            try PostgresBackend.open(address, access: access, logger: logger)
        }
    }
}
