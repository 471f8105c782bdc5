/// A value that changes whenever something may have been committed to the store, by this process
/// or by any other. Two equal generations mean nothing was written in between, so whatever was
/// read under the first still holds (``Registry/generation()``). Each backend says what it is made
/// of (SQLite: `PRAGMA data_version` and the connection's change count; PostgreSQL: the
/// server's transaction snapshot).
public struct StoreGeneration: Sendable, Hashable {
    let parts: [StoreValue]

    /// A generation made of values that change whenever anything may have been committed.
    public init(_ parts: [StoreValue]) { self.parts = parts }
}

extension Registry {
    /// The store's generation, read without touching a table: cheap enough for a server to check
    /// on every request before trusting what it cached.
    public func generation() throws -> StoreGeneration { try backend.generation() }
}
