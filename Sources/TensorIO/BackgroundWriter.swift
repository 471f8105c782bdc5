import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file being written: on a second thread while the caller produces (reads, hashes) the next
/// bytes, so a copy that hashes runs at the speed of the slower of the two instead of their sum.
///
/// Two buffers of 4 MiB: the caller fills one (small writes coalesce into one system call) while
/// the other is being written; a full buffer waits only for the write before it. Memory: two
/// buffers, whatever the file's size. The first write error is thrown by the next write or when
/// the file is closed. Whole objects are copied in the kernel (`sendfile(2)`) while another
/// thread hashes them (``ObjectFolder/copy(_:to:)``).
public final class BackgroundWriter: @unchecked Sendable {
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
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
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

    /// Appends bytes `range` of `source`, copied by the kernel (`sendfile(2)`, no copy through
    /// this process) while another thread reads and hashes the same bytes.
    /// - Returns: the SHA-256 of the bytes hashed, for the caller to compare with what it expects.
    func copyHashing(from source: PosixFile, range: Range<Int>) throws -> String {
        // Everything buffered goes first: the kernel appends at the file's position.
        if filled > 0 { try handOver() }
        idle.wait()
        defer { idle.signal() }
        if let failure { throw failure }
        // Both threads only `pread` from `source`, which is safe at once; `hashed` is read
        // after the group is done.
        nonisolated(unsafe) let reader = source
        nonisolated(unsafe) var hashed: Result<String, any Error> = .success("")
        let hashing = DispatchGroup()
        DispatchQueue.global().async(group: hashing) {
            hashed = Result { try reader.sha256(of: range) }
        }
        let copied = Result { try file.append(range, of: source) }
        hashing.wait()
        try copied.get()
        return try hashed.get()
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
