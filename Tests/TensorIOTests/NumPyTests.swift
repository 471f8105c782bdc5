import FuseboxTestSupport
import Testing

@testable import TensorCore
@testable import TensorIO

struct NumPyTests {
    func npy(major: UInt8 = 1, header: String, data: [UInt8]) -> [UInt8] {
        var h = Array(header.utf8)
        let pre = major == 1 ? 10 : 12
        while (pre + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        let length: [UInt8] =
            major == 1
            ? [UInt8(h.count & 0xFF), UInt8(h.count >> 8)] : [UInt8(h.count & 0xFF), UInt8(h.count >> 8), 0, 0]
        return NumPyArray.magic + [major, 0] + length + h + data
    }

    @Test(arguments: [
        DType.float16, .float32, .float64, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .bool,
    ])
    func everyDTypeRoundTrips(dtype: DType) throws {
        var rng = TestRandom(seed: 3)
        var bytes = (0..<6 * dtype.byteSize).map { _ in UInt8.random(in: 0...255, using: &rng) }
        if dtype == .bool { bytes = bytes.map { $0 & 1 } }
        let t = try Tensor(dtype: dtype, shape: [2, 3], bytes: bytes)
        #expect(try NumPyArray.decode(NumPyArray.encode(t), path: "x.npy") == t)
    }

    @Test func versionsTwoAndThreeAndBigEndian() throws {
        let be: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 2]
        for major: UInt8 in [1, 2, 3] {
            let t = try NumPyArray.decode(
                npy(major: major, header: "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", data: be),
                path: "x.npy"
            )
            #expect(t.dtype == .int32)
            #expect(t.doubles() == [1, 2])
        }
    }

    @Test func fortranOrderBecomesCOrder() throws {
        // Column-major [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
        let data = [1, 4, 2, 5, 3, 6].map { UInt8($0) }
        let t = try NumPyArray.decode(
            npy(header: "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", data: data),
            path: "x.npy"
        )
        #expect(t.bytes == [1, 2, 3, 4, 5, 6])
        #expect(t.shape == [2, 3])
    }

    @Test func objectDTypeIsRefused() {
        #expect {
            try NumPyArray.decode(
                npy(
                    header: "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
                    data: [0, 0, 0, 0, 0, 0, 0, 0]
                ),
                path: "bad.npy"
            )
        } throws: {
            ($0 as? TensorIOError)?.code == .unsupported && "\($0)".contains("'|O'") && "\($0)".contains("bad.npy")
        }
        #expect(throws: TensorIOError.self) {
            try NumPyArray.decode(
                npy(header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]),
                path: "bad.npy"
            )
        }
    }

    @Test func lyingShapeIsRefused() {
        // Shape says 4 floats (16 bytes), the file holds 8 bytes.
        #expect {
            try NumPyArray.decode(
                npy(
                    header: "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                    data: [UInt8](repeating: 0, count: 8)
                ),
                path: "bad.npy"
            )
        } throws: {
            ($0 as? TensorIOError)?.code == .truncated && "\($0)".contains("needs 16 data bytes but the file holds 8")
        }
        // …and more bytes than the shape claims is refused too.
        #expect(throws: TensorIOError.self) {
            try NumPyArray.decode(
                npy(
                    header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
                    data: [UInt8](repeating: 0, count: 8)
                ),
                path: "bad.npy"
            )
        }
    }

    @Test func truncatedAndGarbageFiles() {
        #expect(throws: TensorIOError.self) { try NumPyArray.decode([0x93, 0x4E], path: "bad.npy") }
        #expect(throws: TensorIOError.self) {
            try NumPyArray.decode(Array("hello world, not numpy".utf8), path: "bad.npy")
        }
        var cut = npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0])
        cut.removeLast(30)
        #expect(throws: TensorIOError.self) { try NumPyArray.decode(cut, path: "bad.npy") }
    }

    static let numpyAvailable = Python.hasModule("numpy")

    @Test(.enabled(if: numpyAvailable || isCI, "needs python3 with numpy"))
    func encodingMatchesNumPyByteForByte() throws {
        try #require(Self.numpyAvailable, "CI=true but python3 with numpy is missing")
        let dir = TemporaryDirectory()
        let t = Tensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        try NumPyArray.write(t, toPath: dir.file("swift.npy"))
        try Python.run(
            "import numpy as np, sys; np.save(sys.argv[1], np.arange(1, 7, dtype=np.float32).reshape(2, 3))",
            arguments: [dir.file("numpy.npy")]
        )
        #expect(try readBytes(dir.file("swift.npy")) == readBytes(dir.file("numpy.npy")))
    }

    @Test(.enabled(if: numpyAvailable || isCI, "needs python3 with numpy"))
    func npzStoredAndDeflatedFromNumPy() throws {
        try #require(Self.numpyAvailable, "CI=true but python3 with numpy is missing")
        let dir = TemporaryDirectory()
        try Python.run(
            """
            import numpy as np, sys
            a = np.arange(12, dtype=np.float64).reshape(3, 4)
            b = np.asfortranarray(np.arange(6, dtype='>i2').reshape(2, 3))
            np.savez(sys.argv[1], image=a, labels=b)
            np.savez_compressed(sys.argv[2], image=a, labels=b)
            """,
            arguments: [dir.file("s.npz"), dir.file("d.npz")]
        )
        for name in ["s.npz", "d.npz"] {
            let arrays = try NumPyArchive.read(path: dir.file(name))
            #expect(arrays.map(\.name) == ["image", "labels"])
            #expect(arrays[0].tensor.doubles() == (0..<12).map(Double.init))
            #expect(arrays[1].tensor.doubles() == [0, 1, 2, 3, 4, 5])
        }
        try writeBytes(Array(try readBytes(dir.file("d.npz")).prefix(100)), to: dir.file("cut.npz"))
        #expect(throws: TensorIOError.self) { try NumPyArchive.read(path: dir.file("cut.npz")) }
    }
}
