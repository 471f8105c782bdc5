import TensorCore

/// NumPy's `.npy` format (versions 1.0, 2.0 and 3.0):
///
/// ```text
/// "\x93NUMPY" | major | minor | header length (u16 LE for 1.x, u32 LE for 2.x/3.x)
/// | header: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
/// | data
/// ```
///
/// Reading accepts little- and big-endian data (converted to little-endian) and Fortran order
/// (converted to C order). The data must be exactly `elements × itemsize` bytes: a shape that
/// claims more or fewer elements than the file holds is an error. Object, string and structured
/// dtypes are refused; bfloat16 has no NumPy descr and is written as raw `<u2` only by other tools.
public enum NumPyArray {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Reads a `.npy` file.
    public static func read(path: String) throws -> Tensor {
        let file = try PosixFile(readingAtPath: path)
        return try decode(try file.read(count: file.size, at: 0), path: path)
    }

    /// Decodes `.npy` bytes; `path` names the source in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> Tensor {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw TensorIOError(.invalidHeader, path: path, "not a NumPy .npy file (magic string missing)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else {
                throw TensorIOError(.truncated, path: path, "file ends inside the .npy preamble")
            }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw TensorIOError(
                .unsupported,
                path: path,
                ".npy format version \(major).\(bytes[7]) is not supported (1.0, 2.0, 3.0 are)"
            )
        }
        guard headerStart + headerLength <= bytes.count else {
            throw TensorIOError(
                .truncated,
                path: path,
                ".npy header of \(headerLength) bytes runs past the end of the file"
            )
        }
        let headerBytes = Array(bytes[headerStart..<headerStart + headerLength])
        let headerText =
            major == 3
            ? String(validating: headerBytes, as: UTF8.self) : String(headerBytes.map { Character(Unicode.Scalar($0)) })
        guard let headerText else { throw TensorIOError(.invalidHeader, path: path, ".npy header is not valid UTF-8") }
        let header: NumPyHeader
        do { header = try NumPyHeader.parse(headerText) } catch let error as NumPyHeader.ParseError {
            throw TensorIOError(.invalidHeader, path: path, ".npy header: \(error.reason)")
        }
        let (dtype, bigEndian) = try dtype(fromDescr: header.descr, path: path)
        let shape: Shape
        do { shape = try Shape.validated(header.shape) } catch {
            throw TensorIOError(.invalidHeader, path: path, error.message)
        }
        let dataStart = headerStart + headerLength
        let (expected, overflow) = shape.elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        let available = bytes.count - dataStart
        guard !overflow, expected == available else {
            throw TensorIOError(
                available < expected ? .truncated : .invalidHeader,
                path: path,
                "shape \(shape) of \(header.descr) needs \(overflow ? "too many" : String(expected)) data bytes but the file holds \(available)"
            )
        }
        var data = Array(bytes[dataStart...])
        if bigEndian { Tensor.swapBytes(&data, elementSize: dtype.byteSize) }
        if header.fortranOrder, shape.rank > 1 {
            data = cOrder(fromFortran: data, shape: shape, elementSize: dtype.byteSize)
        }
        if dtype == .bool, let bad = data.first(where: { $0 > 1 }) {
            throw TensorIOError(.invalidHeader, path: path, "bool array holds byte \(bad), not 0 or 1")
        }
        do { return try Tensor(dtype: dtype, shape: shape, bytes: data) } catch {
            throw TensorIOError(.invalidHeader, path: path, error.message)
        }
    }

    /// Maps a NumPy type string such as `<f4`, `>i8`, `|b1` to a dtype and its byte order.
    static func dtype(fromDescr descr: String, path: String) throws -> (DType, bigEndian: Bool) {
        let chars = Array(descr)
        guard chars.count >= 3, "<>|=".contains(chars[0]), let size = Int(String(chars[2...])) else {
            throw TensorIOError(
                .unsupported,
                path: path,
                "dtype '\(descr)' is not supported (object, string and structured dtypes are refused)"
            )
        }
        let bigEndian = chars[0] == ">"
        let table: [String: DType] = [
            "f2": .float16, "f4": .float32, "f8": .float64, "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
            "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64, "b1": .bool,
        ]
        guard let dtype = table["\(chars[1])\(size)"] else {
            throw TensorIOError(
                .unsupported,
                path: path,
                "dtype '\(descr)' is not supported (object, string and structured dtypes are refused)"
            )
        }
        return (dtype, bigEndian)
    }

    static func descr(for dtype: DType) -> String? {
        switch dtype {
        case .float16: "<f2"
        case .bfloat16: nil
        case .float32: "<f4"
        case .float64: "<f8"
        case .int8: "|i1"
        case .int16: "<i2"
        case .int32: "<i4"
        case .int64: "<i8"
        case .uint8: "|u1"
        case .uint16: "<u2"
        case .uint32: "<u4"
        case .uint64: "<u8"
        case .bool: "|b1"
        }
    }

    /// Reorders Fortran-order (column-major) element bytes into C order.
    static func cOrder(fromFortran data: [UInt8], shape: Shape, elementSize: Int) -> [UInt8] {
        let dims = shape.dimensions
        let count = shape.elementCount
        var out = [UInt8](repeating: 0, count: data.count)
        // Strides of the Fortran layout: axis 0 varies fastest.
        var fStrides = [Int](repeating: 1, count: dims.count)
        for axis in 1..<dims.count { fStrides[axis] = fStrides[axis - 1] * dims[axis - 1] }
        var index = [Int](repeating: 0, count: dims.count)
        for c in 0..<count {
            var f = 0
            for axis in 0..<dims.count { f += index[axis] * fStrides[axis] }
            for b in 0..<elementSize { out[c * elementSize + b] = data[f * elementSize + b] }
            var axis = dims.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < dims[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }

    /// Encodes a tensor as `.npy` version 1.0 bytes, laid out exactly as NumPy 2 writes them
    /// (header padded with spaces and a newline so the data starts at a multiple of 64).
    public static func encode(_ tensor: Tensor, path: String = "<memory>") throws -> [UInt8] {
        guard let descr = descr(for: tensor.dtype) else {
            throw TensorIOError(
                .unsupported,
                path: path,
                "NumPy has no dtype for \(tensor.dtype.rawValue); use safetensors"
            )
        }
        let dims = tensor.shape.dimensions
        let shapeText = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        let unpadded = 10 + header.count + 1
        header += [UInt8](repeating: 0x20, count: (64 - unpadded % 64) % 64) + [0x0A]
        guard header.count <= Int(UInt16.max) else {
            throw TensorIOError(.unsupported, path: path, "shape too long for a .npy 1.0 header")
        }
        return magic + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header + tensor.bytes
    }

    /// Writes a tensor to a `.npy` file atomically.
    public static func write(_ tensor: Tensor, toPath path: String, overwrite: Bool = true) throws {
        let bytes = try encode(tensor, path: path)
        try AtomicFile.write(toPath: path, overwrite: overwrite) { file in
            try bytes.withUnsafeBytes { try file.write($0) }
        }
    }
}

/// The three keys of a `.npy` header dict.
struct NumPyHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    struct ParseError: Error { let reason: String }

    /// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` (any key order,
    /// single or double quotes, trailing comma and padding allowed).
    static func parse(_ text: String) throws -> NumPyHeader {
        var s = Substring(text.trimmingWhitespace())
        func skipSpace() { while let c = s.first, c == " " || c == "\n" || c == "\t" { s.removeFirst() } }
        func eat(_ c: Character) throws {
            skipSpace()
            guard s.first == c else { throw ParseError(reason: "expected '\(c)'") }
            s.removeFirst()
        }
        func quoted() throws -> String {
            skipSpace()
            guard let q = s.first, q == "'" || q == "\"" else {
                throw ParseError(reason: "expected a quoted string (object or structured dtypes are not supported)")
            }
            s.removeFirst()
            guard let end = s.firstIndex(of: q) else { throw ParseError(reason: "unterminated string") }
            let value = String(s[..<end])
            s = s[s.index(after: end)...]
            return value
        }
        try eat("{")
        var descr: String?
        var fortran: Bool?
        var shape: [Int]?
        while true {
            skipSpace()
            if s.first == "}" { break }
            let key = try quoted()
            try eat(":")
            skipSpace()
            switch key {
            case "descr": descr = try quoted()
            case "fortran_order":
                if s.hasPrefix("True") {
                    fortran = true
                    s.removeFirst(4)
                } else if s.hasPrefix("False") {
                    fortran = false
                    s.removeFirst(5)
                } else {
                    throw ParseError(reason: "fortran_order is not True or False")
                }
            case "shape":
                try eat("(")
                var dims: [Int] = []
                while true {
                    skipSpace()
                    if s.first == ")" {
                        s.removeFirst()
                        break
                    }
                    let digits = s.prefix { $0.isNumber || $0 == "-" }
                    guard let d = Int(digits) else { throw ParseError(reason: "shape holds a non-integer") }
                    dims.append(d)
                    s.removeFirst(digits.count)
                    skipSpace()
                    if s.first == "," { s.removeFirst() }
                }
                shape = dims
            default: throw ParseError(reason: "unexpected key '\(key)'")
            }
            skipSpace()
            if s.first == "," { s.removeFirst() }
        }
        guard let descr, let fortran, let shape else {
            throw ParseError(reason: "descr, fortran_order or shape is missing")
        }
        return NumPyHeader(descr: descr, fortranOrder: fortran, shape: shape)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
