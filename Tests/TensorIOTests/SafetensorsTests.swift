import FuseboxTestSupport
import Testing

@testable import TensorCore
@testable import TensorIO

struct SafetensorsTests {
    func randomTensor(_ rng: inout TestRandom) -> Tensor {
        let dtype = DType.allCases.randomElement(using: &rng)!
        let rank = Int.random(in: 0...3, using: &rng)
        let shape = Shape((0..<rank).map { _ in Int.random(in: 0...5, using: &rng) })
        var bytes = (0..<shape.elementCount * dtype.byteSize).map { _ in UInt8.random(in: 0...255, using: &rng) }
        if dtype == .bool { bytes = bytes.map { $0 & 1 } }
        return try! Tensor(dtype: dtype, shape: shape, bytes: bytes)
    }

    @Test(arguments: 0..<25)
    func randomTensorsRoundTripBitExactly(seed: Int) throws {
        // Given a random set of tensors of random dtypes and shapes
        var rng = TestRandom(seed: UInt64(seed))
        let tensors = (0..<Int.random(in: 1...6, using: &rng)).map { ("t\($0)", randomTensor(&rng)) }
        let dir = TemporaryDirectory()
        let path = dir.file("a.safetensors")
        // When written and read back
        try SafetensorsWriter.write(tensors, metadata: [.init(key: "k", value: "v \"q\"")], toPath: path)
        let file = try SafetensorsFile(path: path)
        // Then every tensor is identical and the metadata survives
        let read = try file.allTensors()
        #expect(read.map(\.name) == tensors.map(\.0))
        #expect(read.map(\.tensor) == tensors.map(\.1))
        #expect(file.header.metadata == [.init(key: "k", value: "v \"q\"")])
        // And re-writing from the kept header gives the same bytes
        let copy = dir.file("b.safetensors")
        try SafetensorsWriter.write(rawHeader: file.header.rawHeader, toPath: copy, overwrite: false) { emit in
            for entry in file.header.entries.sorted(by: { $0.dataRange.lowerBound < $1.dataRange.lowerBound }) {
                try file.forEachChunk(of: entry, chunkSize: 7) { try emit($0) }
            }
        }
        #expect(try SHA256Hex.ofFile(atPath: copy) == SHA256Hex.ofFile(atPath: path))
    }

    @Test func headerIsPaddedToEightBytes() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.safetensors")
        try SafetensorsWriter.write([("x", Tensor(floats: [1, 2, 3], shape: [3]))], toPath: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.header.rawHeader.count % 8 == 0)
        #expect(file.header.dataOffset + 12 == file.fileSize)
    }

    @Test func exportRefusesToOverwriteWithoutPermission() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.safetensors")
        try writeBytes([1, 2, 3], to: path)
        #expect(throws: TensorIOError.self) {
            try SafetensorsWriter.write([("x", Tensor(floats: [1], shape: [1]))], toPath: path, overwrite: false)
        }
        #expect(try readBytes(path) == [1, 2, 3])
    }

    // MARK: - Bad input: one test for each

    /// Writes `header` (JSON text) with an 8-byte length prefix and `data` bytes, then opens it.
    func open(header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil) throws -> SafetensorsFile {
        let dir = TemporaryDirectory()
        let path = dir.file("bad.safetensors")
        let h = Array(header.utf8)
        let length = lengthOverride ?? UInt64(h.count)
        let prefix = (0..<8).map { UInt8((length >> (8 * UInt64($0))) & 0xFF) }
        try writeBytes(prefix + h + data, to: path)
        return try SafetensorsFile(path: path)
    }

    func expectError(_ code: TensorIOError.Code, containing text: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(code) error")
        } catch let error as TensorIOError {
            #expect(error.code == code, "\(error)")
            #expect(error.description.contains(text), "\(error)")
            #expect(error.description.contains("bad.safetensors"), "the error names the file: \(error)")
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func truncatedFile() {
        expectError(.truncated, containing: "too short") {
            let dir = TemporaryDirectory()
            try writeBytes([1, 2, 3], to: dir.file("bad.safetensors"))
            _ = try SafetensorsFile(path: dir.file("bad.safetensors"))
        }
        expectError(.truncated, containing: "past the end") {
            _ = try open(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0])
        }
    }

    @Test func headerLengthBeyondTheFile() {
        expectError(.truncated, containing: "runs past the end") { _ = try open(header: "{}", lengthOverride: 4096) }
    }

    @Test func absurdHeaderLength() {
        expectError(.invalidHeader, containing: "is not a safetensors file") {
            _ = try open(header: "{}", lengthOverride: UInt64.max)
        }
    }

    @Test func headerNotUTF8() {
        expectError(.invalidHeader, containing: "not valid UTF-8") {
            let dir = TemporaryDirectory()
            let h: [UInt8] = Array("{\"".utf8) + [0xFF, 0xFE] + Array("\":1}".utf8)
            try writeBytes([UInt8(h.count), 0, 0, 0, 0, 0, 0, 0] + h, to: dir.file("bad.safetensors"))
            _ = try SafetensorsFile(path: dir.file("bad.safetensors"))
        }
    }

    @Test func headerNotJSON() {
        expectError(.invalidHeader, containing: "not valid JSON") { _ = try open(header: "{not json") }
        expectError(.invalidHeader, containing: "not a JSON object") { _ = try open(header: "[1, 2]") }
    }

    @Test func offsetsOverlapping() {
        expectError(.invalidOffsets, containing: "overlaps") {
            _ = try open(
                header:
                    #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#,
                data: [UInt8](repeating: 0, count: 6)
            )
        }
    }

    @Test func offsetsOutOfOrderOrWithAGap() {
        expectError(.invalidOffsets, containing: "out of order") {
            _ = try open(header: #"{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0])
        }
        expectError(.invalidOffsets, containing: "gap") {
            _ = try open(header: #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}"#, data: [0, 0, 0, 0])
        }
    }

    @Test func offsetsOutsideTheData() {
        expectError(.invalidOffsets, containing: "short of") {
            _ = try open(header: #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#, data: [0, 0, 0, 0])
        }
    }

    @Test func byteCountNotMatchingDTypeTimesShape() {
        expectError(.invalidOffsets, containing: "needs 12") {
            _ = try open(
                header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                data: [UInt8](repeating: 0, count: 8)
            )
        }
    }

    @Test func unknownDType() {
        expectError(.unknownDType, containing: "'F8_E4M3'") {
            _ = try open(header: #"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: [0])
        }
    }

    @Test func duplicateTensorNames() {
        expectError(.invalidHeader, containing: "duplicate key 'a'") {
            _ = try open(
                header:
                    #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#,
                data: [0, 0]
            )
        }
    }

    @Test func metadataMustBeStrings() {
        expectError(.invalidHeader, containing: "metadata value 'n'") {
            _ = try open(header: #"{"__metadata__":{"n":1}}"#)
        }
    }

    @Test func missingTensorIsNamed() throws {
        let file = try open(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: [7])
        #expect(try file.tensor(named: "a").bytes == [7])
        #expect(throws: TensorIOError.self) { try file.tensor(named: "b") }
    }
}
