import Logging
import RegistryStore

extension Registry {
    /// Opens the store at `url`: a PostgreSQL database (`postgres://user@host:port/dbname`, see
    /// `PostgresAddress`) or a file path, as `--db` and `FUSEBOX_DB` name it.
    ///
    /// A PostgreSQL database must exist (`createdb`); read-write, its schema is created or
    /// upgraded on opening (one transaction), as a file's is.
    /// - Throws: `RegistryError`, one line: a malformed URL, a refused connection or login, a
    ///   missing file or database, a schema too new or, read-only, too old.
    public static func open(
        url: String,
        createIfMissing: Bool = true,
        access: Access = .readWrite,
        principal: String = ProcessIdentity.user,
        logger: Logger
    ) throws -> Registry {
        switch try StoreAddress(parsing: url) {
        case .file(let path):
            try open(
                atPath: path,
                createIfMissing: createIfMissing,
                access: access,
                principal: principal,
                logger: logger
            )
        case .postgres(let address):
            try Registry(
                backend: PostgresBackend.open(address, access: access, logger: logger),
                access: access,
                principal: principal,
                logger: logger
            )
        }
    }
}
