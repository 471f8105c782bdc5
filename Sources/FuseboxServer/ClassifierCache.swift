import FusionCore
import RegistryStore

/// Loaded classifiers by version (`MODEL@N`), each verified once when loaded. A reference is
/// resolved to its number on every request (through the ``ReadCache``, which forgets as soon as
/// anything is committed), so a promotion or rollback is served by the very next request; the
/// number then finds the loaded model.
actor ClassifierCache {
    private let registry: Registry
    private let reads: ReadCache
    private var loaded: [String: FusedClassifier] = [:]
    private var order: [String] = []
    /// Versions kept loaded; the least recently loaded goes first.
    let capacity: Int

    init(registry: Registry, reads: ReadCache, capacity: Int = 32) {
        self.registry = registry
        self.reads = reads
        self.capacity = capacity
    }

    /// The classifier `reference` names now, and its version number.
    func classifier(_ reference: VersionReference) async throws -> (FusedClassifier, Int) {
        let number = try await reads.versionNumber(reference)
        let key = "\(reference.model)@\(number)"
        if let model = loaded[key] { return (model, number) }
        let model = try await registry.loadClassifier(
            VersionReference(model: reference.model, selector: .number(number))
        )
        loaded[key] = model
        order.append(key)
        if order.count > capacity { loaded[order.removeFirst()] = nil }
        return (model, number)
    }
}
