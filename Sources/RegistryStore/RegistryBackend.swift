import Dispatch

/// The seam between the registry and a database: what differs per database (connection,
/// dialect, locking, where blob bytes live) sits below it, in one implementation per backend —
/// ``SQLiteBackend`` here, `PostgresBackend` in the RegistryPostgres module. ``Registry`` holds
/// one and runs all of its logic — workflows, gates, the query compiler, integrity checks —
/// through it, as statements on ``StoreSQL`` written once for both databases.
///
/// It has two halves. `readSQL(_:)` and `writeSQL(_:)` hand the registry's logic one
/// transaction's ``StoreSQL``; ``read(_:)`` and ``write(_:)`` speak of ``StoreTable`` rows and of
/// verified blob streams, never of SQL, and ``StoreCopy`` (`fusebox copy`) is written against them
/// alone, which is why it moves a store between any two backends.
public protocol RegistryBackend: Sendable {
    /// Where the store lives (printable: a URL never shows its password).
    var address: StoreAddress { get }
    /// Runs `body` on one consistent snapshot of the store.
    func read<T>(_ body: (any BackendSnapshot) throws -> T) throws -> T
    /// Runs `body` in one write transaction, committed when it returns and rolled back when it
    /// throws (or the process dies). Foreign keys are checked at commit, so rows that refer to each
    /// other (a run and the version it trained) can be written in either order.
    func write<T>(_ body: (any BackendTransaction) throws -> T) throws -> T

    /// Runs `body` on one consistent snapshot, blocking the calling thread.
    func readSQL<T>(_ body: (any StoreSQL) throws -> T) throws -> T
    /// Runs `body` in one write transaction, blocking the calling thread. Write transactions take
    /// turns (SQLite's `BEGIN IMMEDIATE`; PostgreSQL's advisory write lock), so what `body` reads
    /// it may act on: no lost update, gapless version numbers.
    func writeSQL<T>(_ body: (any StoreSQL) throws -> T) throws -> T
    /// `readSQL(_:)` for async callers, who must never block a cooperative thread.
    func readSQL<T: Sendable>(_ body: @Sendable @escaping (any StoreSQL) throws -> T) async throws -> T
    /// `writeSQL(_:)` for async callers.
    func writeSQL<T: Sendable>(_ body: @Sendable @escaping (any StoreSQL) throws -> T) async throws -> T
    /// A value that changes whenever something may have been committed to the store, by this
    /// process or any other (``StoreGeneration``).
    func generation() throws -> StoreGeneration
    /// The applied schema migrations, in order.
    func appliedMigrations() throws -> [String]
}

extension RegistryBackend {
    /// Runs the blocking `readSQL(_:)` on a thread of its own.
    public func readSQL<T: Sendable>(_ body: @Sendable @escaping (any StoreSQL) throws -> T) async throws -> T {
        try await offCooperativePool { try readSQL(body) }
    }

    /// Runs the blocking `writeSQL(_:)` on a thread of its own.
    public func writeSQL<T: Sendable>(_ body: @Sendable @escaping (any StoreSQL) throws -> T) async throws -> T {
        try await offCooperativePool { try writeSQL(body) }
    }
}

/// Runs blocking work on a Dispatch thread and awaits it.
func offCooperativePool<T: Sendable>(_ work: @Sendable @escaping () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// Reads of one snapshot of a store.
public protocol BackendSnapshot {
    /// Calls `body` with every row of `table`, its values in ``StoreTable/columns`` order, in
    /// ascending order of the key. Memory stays bounded whatever the table's size.
    func forEachRow(of table: StoreTable, _ body: ([StoreValue]) throws -> Void) throws
    /// The rows of `table` whose key columns hold one of `keys`, in any order (keys that name no
    /// row are left out). A backend answers many keys at once where each statement costs a
    /// round trip.
    func rows(of table: StoreTable, keys: [[StoreValue]]) throws -> [[StoreValue]]
    /// Every blob, by ascending id.
    func blobs() throws -> [BlobRecord]
    /// The blob with this id, or nil.
    func blob(id: Int64) throws -> BlobRecord?
    /// Streams a blob's bytes in order, in pieces of at most 4 MiB, verified: bytes that do not
    /// hash to the record's SHA-256 (or a missing object) throw ``RegistryError`` `corruptData`.
    func streamBlob(_ blob: BlobRecord, _ body: (UnsafeRawBufferPointer) throws -> Void) throws
}

/// Writes inside one transaction of ``RegistryBackend/write(_:)``; it also reads what it wrote.
public protocol BackendTransaction: BackendSnapshot {
    /// Inserts rows, keys included (ids are kept, not generated); several in one statement where
    /// each statement costs a round trip.
    func insert(_ rows: [[StoreValue]], into table: StoreTable) throws
    /// Overwrites the non-key columns of the row with the same key.
    func update(_ row: [StoreValue], in table: StoreTable) throws
    /// Stores a blob under `blob.id` from the bytes `produce` emits, hashing them as they are
    /// written: bytes that do not match the record throw `corruptData` and the transaction stores
    /// nothing. Memory stays bounded (one 4 MiB chunk at a time).
    func storeBlob(_ blob: BlobRecord, produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws
    /// After rows were inserted with their ids: ids generated later follow the largest one.
    func finishExplicitIds() throws
}
