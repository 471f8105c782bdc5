import FuseboxTestSupport
import Testing

@testable import TensorCore
@testable import TensorIO

/// Files written by Python's `safetensors` read exactly in Fusebox, and Fusebox's files load in Python.
struct PythonInteropTests {
    static let available = Python.hasModule("safetensors.numpy") && Python.hasModule("numpy")

    @Test(.enabled(if: available || isCI, "needs python3 with numpy and safetensors (pip install safetensors)"))
    func pythonFileReadsExactlyAndRewritesWithTheSameSHA256() throws {
        try #require(Self.available, "CI=true but python3 with numpy and safetensors is missing")
        let dir = TemporaryDirectory()
        let path = dir.file("py.safetensors")
        try Python.run(
            """
            import numpy as np, sys
            from safetensors.numpy import save_file
            rng = np.random.default_rng(0)
            save_file({
                "w": rng.standard_normal((3, 5)).astype(np.float32),
                "b": np.arange(5, dtype=np.int64),
                "h": rng.standard_normal((2, 2)).astype(np.float16),
                "m": np.array([True, False, True]),
                "u": np.arange(4, dtype=np.uint16),
            }, sys.argv[1], metadata={"format": "np"})
            """,
            arguments: [path]
        )
        let file = try SafetensorsFile(path: path)
        let expected = try Python.run(
            """
            import sys
            from safetensors.numpy import load_file
            for k, v in sorted(load_file(sys.argv[1]).items()):
                print(k, str(v.dtype), list(v.shape), v.tobytes().hex())
            """,
            arguments: [path]
        )
        var lines: [String] = []
        for (name, tensor) in try file.allTensors().sorted(by: { $0.name < $1.name }) {
            let dtypes: [DType: String] = [
                .float32: "float32", .int64: "int64", .float16: "float16", .bool: "bool", .uint16: "uint16",
            ]
            lines.append("\(name) \(dtypes[tensor.dtype]!) \(tensor.shape.dimensions) \(SHA256Hex.hex(tensor.bytes))")
        }
        #expect(lines.joined(separator: "\n") + "\n" == expected)
        // Re-writing from the kept header and the tensor bytes reproduces the file bit for bit.
        let copy = dir.file("copy.safetensors")
        try SafetensorsWriter.write(rawHeader: file.header.rawHeader, toPath: copy, overwrite: false) { emit in
            for entry in file.header.entries.sorted(by: { $0.dataRange.lowerBound < $1.dataRange.lowerBound }) {
                try file.tensor(entry).withUnsafeBytes { try emit($0) }
            }
        }
        #expect(try SHA256Hex.ofFile(atPath: copy) == SHA256Hex.ofFile(atPath: path))
    }

    @Test(.enabled(if: available || isCI, "needs python3 with numpy and safetensors (pip install safetensors)"))
    func fuseboxFileLoadsInPython() throws {
        try #require(Self.available, "CI=true but python3 with numpy and safetensors is missing")
        let dir = TemporaryDirectory()
        let path = dir.file("swift.safetensors")
        try SafetensorsWriter.write(
            [
                ("image", Tensor(floats: [0.25, 0.75, 1, 0], shape: [2, 2])),
                ("labels", Tensor(int32s: [1, 0], shape: [2])),
            ],
            metadata: [.init(key: "source", value: "fusebox")],
            toPath: path
        )
        let out = try Python.run(
            """
            import sys
            from safetensors import safe_open
            with safe_open(sys.argv[1], "np") as f:
                print(f.metadata()["source"], f.get_tensor("image").tolist(), f.get_tensor("labels").tolist(), f.get_tensor("labels").dtype)
            """,
            arguments: [path]
        )
        #expect(out == "fusebox [[0.25, 0.75], [1.0, 0.0]] [1, 0] int32\n")
    }

    @Test func anchorDataReadsWithItsRecordedChecksums() throws {
        let data = anchorDataDirectory()
        let file = try SafetensorsFile(path: data + "/m2/fusion_k10_m2.safetensors")
        #expect(
            try SHA256Hex.ofFile(atPath: file.path)
                == "8f66f2579edffd098b7b192b3c95f46a764e80b3489892912e4ae53df11be6cb"
        )
        #expect(
            SHA256Hex.of(try file.tensor(named: "train.image").bytes)
                == "af90c19c9b5a5206e9ad458adc24bf165aa06ebcab9852f2dc05041f94247db0"
        )
        let npy = try NumPyArray.read(path: data + "/m2/train_image.npy")
        #expect(npy == (try file.tensor(named: "train.image")))
    }
}
