import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file on a second thread while the caller produces (reads, hashes) the next bytes, so
/// a copy that hashes runs at the speed of the slower of the two instead of their sum.
///
/// Two buffers of ``bufferSize`` bytes: the caller fills one (small writes coalesce into one
/// system call) while the other is being written; a full buffer waits only for the write before
/// it. Memory: two buffers, whatever the file's size. The first write error is thrown by the next
/// ``write(_:)`` or by ``finish()``.
final class BackgroundWriter: @unchecked Sendable {
    static let bufferSize = 4 << 20

    private let file: PosixFile
    private let queue = DispatchQueue(label: "fusebox.background-writer")
    /// Signalled when no write is in flight.
    private let idle = DispatchSemaphore(value: 1)
    private var filling: UnsafeMutableRawBufferPointer
    private var spare: UnsafeMutableRawBufferPointer
    private var filled = 0
    /// The first write error; set on the queue, read after `idle` was taken.
    private var failure: (any Error)?

    init(_ file: PosixFile) {
        self.file = file
        filling = .allocate(byteCount: Self.bufferSize, alignment: 64)
        spare = .allocate(byteCount: Self.bufferSize, alignment: 64)
    }

    deinit {
        idle.wait()  // no write may still use the buffers
        idle.signal()  // (a semaphore freed below its initial value traps)
        filling.deallocate()
        spare.deallocate()
    }

    /// Appends `bytes` (copied: the caller may reuse its buffer at once).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = min(Self.bufferSize - filled, bytes.count - offset)
            (filling.baseAddress! + filled).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            filled += n
            offset += n
            if filled == Self.bufferSize { try handOver() }
        }
    }

    /// Writes what is buffered and waits for every write to finish.
    func finish() throws {
        if filled > 0 { try handOver() }
        idle.wait()
        defer { idle.signal() }
        if let failure { throw failure }
    }

    /// Hands the filled buffer to the queue once the write before it is done, and fills the other.
    private func handOver() throws {
        idle.wait()
        if let failure {
            idle.signal()
            throw failure
        }
        // The buffer is not touched again until `idle` is signalled after this write.
        nonisolated(unsafe) let chunk = UnsafeRawBufferPointer(rebasing: filling[0..<filled])
        queue.async { [self] in
            do { try file.write(chunk) } catch { failure = error }
            idle.signal()
        }
        swap(&filling, &spare)
        filled = 0
    }
}
