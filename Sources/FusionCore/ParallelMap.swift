import Dispatch

/// `(0..<count).map(body)`, with the calls spread over the available cores.
///
/// Each call writes only its own slot, so no lock is needed and the result is in index order;
/// when each call is deterministic, so is the whole (whatever the core count). The first error
/// by index is rethrown after every call has finished; a `body` that cannot throw makes a call
/// that cannot either (typed throws: `E` is `Never`).
func parallelMap<T, E: Error>(_ count: Int, _ body: @Sendable (Int) throws(E) -> T) throws(E) -> [T] {
    let slots = Slots<Result<T, E>>(count: count)
    DispatchQueue.concurrentPerform(iterations: count) { i in
        slots.set(i, Result { () throws(E) -> T in try body(i) })
    }
    return try slots.values.map { (result) throws(E) -> T in try result.get() }
}

/// A fixed buffer whose slots are written once each, by different threads.
private final class Slots<T>: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<T?>

    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: nil)
    }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }

    func set(_ i: Int, _ value: T) { buffer[i] = value }
    var values: [T] { buffer.map { $0! } }
}
