import Testing

@testable import TensorCore

struct TensorTests {
    @Test func byteCountMustMatchShapeAndDType() {
        #expect(throws: TensorError.self) {
            try Tensor(dtype: .float32, shape: [2, 3], bytes: [UInt8](repeating: 0, count: 23))
        }
        #expect(throws: Never.self) {
            try Tensor(dtype: .float32, shape: [2, 3], bytes: [UInt8](repeating: 0, count: 24))
        }
        #expect(throws: TensorError.self) { try Shape.validated([-1, 3]) }
        #expect(throws: TensorError.self) { try Shape.validated([Int.max, 3]) }
    }

    @Test func floatConversionCoversEveryDType() throws {
        // Given the value 3 (or true) encoded in each dtype, little-endian
        let encodings: [(DType, [UInt8])] = [
            (.float16, [0x00, 0x42]), (.bfloat16, [0x40, 0x40]), (.float32, [0, 0, 0x40, 0x40]),
            (.float64, [0, 0, 0, 0, 0, 0, 0x08, 0x40]), (.int8, [3]), (.int16, [3, 0]), (.int32, [3, 0, 0, 0]),
            (.int64, [3, 0, 0, 0, 0, 0, 0, 0]), (.uint8, [3]), (.uint16, [3, 0]), (.uint32, [3, 0, 0, 0]),
            (.uint64, [3, 0, 0, 0, 0, 0, 0, 0]),
        ]
        for (dtype, bytes) in encodings {
            let t = try Tensor(dtype: dtype, shape: [1], bytes: bytes)
            #expect(t.floats() == [3], "\(dtype)")
        }
        #expect(try Tensor(dtype: .bool, shape: [2], bytes: [1, 0]).floats() == [1, 0])
        #expect(try Tensor(dtype: .int8, shape: [1], bytes: [0xFF]).doubles() == [-1])
    }

    @Test func halfFloatSpecialValues() {
        #expect(HalfFloat.float(fromBits: 0x3C00) == 1)
        #expect(HalfFloat.float(fromBits: 0xC000) == -2)
        #expect(HalfFloat.float(fromBits: 0x7BFF) == 65504)
        #expect(HalfFloat.float(fromBits: 0x0001) == 0x1p-24)  // smallest subnormal
        #expect(HalfFloat.float(fromBits: 0x7C00) == .infinity)
        #expect(HalfFloat.float(fromBits: 0x7E00).isNaN)
        #expect(HalfFloat.float(fromBits: 0x8000).sign == .minus)
    }

    @Test func floatsRoundTripThroughBytes() throws {
        let values: [Float] = [0, -0.0, 1.5, .pi, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]
        let t = Tensor(floats: values, shape: [2, 3])
        #expect(t.bytes.count == 24)
        #expect(t.floats().map(\.bitPattern) == values.map(\.bitPattern))
        let m = try t.floatMatrix()
        #expect(m.rows == 2 && m.columns == 3)
        #expect(throws: TensorError.self) { try Tensor(floats: [1], shape: [1, 1, 1]).floatMatrix() }
    }

    @Test func swapBytesReversesEachElement() {
        var b: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        Tensor.swapBytes(&b, elementSize: 4)
        #expect(b == [4, 3, 2, 1, 8, 7, 6, 5])
    }
}
