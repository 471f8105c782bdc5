import Foundation
import RegistryStore

/// Answers of the registry that every request asks again — a token's owner and scope, the version
/// an alias names — kept until the store's ``StoreGeneration`` changes (any commit, from this
/// process or another), so a revocation or a promotion is seen by the very next request.
///
/// A value is filed under the generation read *before* it was fetched: if the store changed
/// meanwhile, the next request sees a newer generation and the value is dropped.
final class ReadCache: @unchecked Sendable {
    private let registry: Registry
    private let lock = NSLock()
    private var generation: StoreGeneration?
    private var tokens: [String: TokenInfo?] = [:]
    private var versions: [String: Int] = [:]
    /// Entries kept per kind before the cache starts over.
    private let capacity = 4096

    init(registry: Registry) { self.registry = registry }

    /// The unrevoked token `secret` names, or nil.
    func token(_ secret: String) async throws -> TokenInfo? {
        let current = try registry.generation()
        if let hit = lookup(current, { $0.tokens[secret] }) { return hit }
        let token = try await registry.authenticate(token: secret)
        store(current) { $0.tokens[secret] = .some(token) }
        return token
    }

    /// The number of the version `reference` names now.
    func versionNumber(_ reference: VersionReference) async throws -> Int {
        let current = try registry.generation()
        let key = String(describing: reference)
        if let hit = lookup(current, { $0.versions[key] }) { return hit }
        let number = try await registry.versionNumber(reference)
        store(current) { $0.versions[key] = number }
        return number
    }

    private func lookup<T>(_ current: StoreGeneration, _ read: (ReadCache) -> T?) -> T? {
        lock.lock()
        defer { lock.unlock() }
        guard generation == current else { return nil }
        return read(self)
    }

    private func store(_ current: StoreGeneration, _ write: (ReadCache) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        if generation != current || tokens.count + versions.count > capacity {
            generation = current
            tokens = [:]
            versions = [:]
        }
        write(self)
    }
}
