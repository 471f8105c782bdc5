import Foundation
import FuseboxTestSupport
import TensorCore
import Testing

@testable import TensorIO

/// The content-addressed folder and the two-thread writer beneath it, on real files.
struct ObjectFolderIOTests {
    @Test func theBackgroundWriterKeepsEveryByteInOrderAcrossItsBuffers() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("out.bin")
        var expected: [UInt8] = []
        do {
            let writer = BackgroundWriter(try PosixFile(writingAtPath: path))
            // Pieces from 1 byte to more than two buffers, so copies straddle every boundary.
            for (k, size) in [1, 7, BackgroundWriter.bufferSize - 3, 5, 2 * BackgroundWriter.bufferSize + 17, 4096, 1]
                .enumerated()
            {
                let piece = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                    for i in 0..<size { buffer[i] = UInt8(truncatingIfNeeded: i &* 31 &+ k &* 7 &+ i >> 9) }
                    count = size
                }
                try piece.withUnsafeBytes { try writer.write($0) }
                expected += piece
            }
            try writer.finish()
        }
        #expect(try readBytes(path) == expected)
    }

    @Test func aWriteErrorOnTheWritingThreadReachesTheCaller() throws {
        try #require(FileManager.default.fileExists(atPath: "/dev/full"), "needs /dev/full")
        let writer = BackgroundWriter(try PosixFile(writingAtPath: "/dev/full"))
        let piece = [UInt8](repeating: 1, count: BackgroundWriter.bufferSize)
        #expect {
            for _ in 0..<3 { try piece.withUnsafeBytes { try writer.write($0) } }
            try writer.finish()
        } throws: { error in
            (error as? TensorIOError)?.code == .io && "\(error)".contains("write failed")
        }
    }

    @Test func objectsAreNamedByTheirDigestAndReadBackHashed() throws {
        let dir = TemporaryDirectory()
        let folder = ObjectFolder(root: dir.file("objects"))
        #expect(try folder.digests().isEmpty && folder.temporaries().isEmpty)
        let bytes = (0..<10_000).map { UInt8($0 % 251) }
        let staged = try folder.stage { emit in try bytes.withUnsafeBytes { try emit($0) } }
        #expect(staged.sha256 == SHA256Hex.of(bytes) && staged.byteCount == 10_000)
        #expect(folder.temporaries() == [staged.temporaryPath] && !folder.contains(staged.sha256))
        try folder.publish(staged)
        #expect(folder.contains(staged.sha256) && folder.temporaries().isEmpty)
        #expect(folder.path(of: staged.sha256).hasSuffix("/\(staged.sha256.prefix(2))/\(staged.sha256.dropFirst(2))"))
        #expect(try folder.digests() == [staged.sha256])
        var back: [UInt8] = []
        let read = try folder.read(staged.sha256, chunkSize: 4096) { back += $0 }
        #expect(back == bytes && read.byteCount == 10_000 && read.sha256 == staged.sha256)
        // A file that is not an object (wrong name) is not listed; a missing object is fileNotFound.
        try writeBytes([1], to: dir.file("objects/zz"))
        #expect(try folder.digests() == [staged.sha256])
        try folder.remove(staged.sha256)
        try folder.remove(staged.sha256)  // already gone: not an error
        #expect {
            try folder.read(staged.sha256) { _ in }
        } throws: { error in (error as? TensorIOError)?.code == .fileNotFound }
    }

    @Test func aFileWrittenToAfterItWasOpenedIsNamedAsChanged() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.bin")
        try writeBytes(Array(repeating: 1, count: 100), to: path)
        let file = try PosixFile(readingAtPath: path)
        try file.checkUnchanged()
        usleep(20_000)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: [2])
        try handle.close()
        #expect {
            try file.checkUnchanged()
        } throws: { error in (error as? TensorIOError)?.code == .changed }
    }

    @Test func kernelCopiesKeepTheirPlaceBetweenBufferedWritesAndAreHashed() throws {
        let dir = TemporaryDirectory()
        let folder = ObjectFolder(root: dir.file("objects"))
        let a = (0..<(5 << 20) + 3).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let b = [UInt8](repeating: 9, count: 1000)
        try SafetensorsWriter.write(
            [
                ("a", try Tensor(dtype: .uint8, shape: [a.count], bytes: a)),
                ("b", try Tensor(dtype: .uint8, shape: [1000], bytes: b)),
            ],
            toPath: dir.file("w.safetensors")
        )
        let file = try SafetensorsFile(path: dir.file("w.safetensors"))
        let staged = try file.header.entries.map { try folder.stage($0, of: file) }
        #expect(staged.map(\.sha256) == [SHA256Hex.of(a), SHA256Hex.of(b)])
        #expect(staged.map(\.byteCount) == [a.count, 1000])
        for object in staged { try folder.publish(object) }
        // head ‖ object a ‖ middle ‖ object b ‖ tail, in that order.
        let out = dir.file("out.bin")
        var copied: [(byteCount: Int, sha256: String)] = []
        try OutputFile.write(toPath: out, overwrite: false) { (writer: BackgroundWriter) in
            try [UInt8]([1, 2, 3]).withUnsafeBytes { try writer.write($0) }
            copied.append(try folder.copy(staged[0].sha256, to: writer))
            try [UInt8](repeating: 4, count: 5 << 20).withUnsafeBytes { try writer.write($0) }
            copied.append(try folder.copy(staged[1].sha256, to: writer))
            try [UInt8]([5]).withUnsafeBytes { try writer.write($0) }
        }
        #expect(copied.map(\.sha256) == staged.map(\.sha256))
        #expect(try readBytes(out) == [1, 2, 3] + a + [UInt8](repeating: 4, count: 5 << 20) + b + [5])
        // A whole file, staged by a kernel copy.
        let whole = try folder.stage(copyingFileAt: dir.file("w.safetensors"))
        #expect(whole.sha256 == (try SHA256Hex.ofFile(atPath: dir.file("w.safetensors"))))
        folder.discard(whole)
        #expect(folder.temporaries().isEmpty)
    }
}
