import TensorCore

/// One tensor's entry in a safetensors header: name, dtype, shape and its byte range in the data section.
public struct SafetensorsEntry: Sendable, Hashable {
    /// The tensor's name, unique in its file.
    public let name: String
    /// The element type.
    public let dtype: DType
    /// The dimensions.
    public let shape: Shape
    /// Start (inclusive) and end (exclusive) of the tensor's bytes, relative to the data section.
    public let dataRange: Range<Int>
}

/// The header of a safetensors file, as specified by the public format:
///
/// ```text
/// u64 little-endian N | N bytes of UTF-8 JSON | data section
/// JSON: {"__metadata__": {"k": "v", …}, "NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]}, …}
/// ```
///
/// Validation follows the reference implementation: every dtype known, `e − b = elements × size`,
/// the ranges in offset order tile the data section exactly (no gap, no overlap, nothing outside),
/// names unique, metadata a map of strings, N ≤ 100 MB. ``rawHeader`` keeps the JSON bytes as
/// read (padding included) so an unmodified file can be written back bit for bit.
public struct SafetensorsHeader: Sendable, Hashable {
    /// Entries in the order they appear in the header JSON.
    public let entries: [SafetensorsEntry]
    /// The `__metadata__` map, in header order.
    public let metadata: [SafetensorsMetadataItem]
    /// The exact header bytes (the N bytes after the length prefix).
    public let rawHeader: [UInt8]

    /// The largest header accepted, as in the reference implementation.
    public static let maximumHeaderSize = 100_000_000

    /// The byte offset of the data section in the file: `8 + N`.
    public var dataOffset: Int { 8 + rawHeader.count }

    /// The size of the data section: the end of the last tensor.
    public var dataSize: Int { entries.map(\.dataRange.upperBound).max() ?? 0 }

    /// The entry called `name`, if any.
    public func entry(named name: String) -> SafetensorsEntry? { entries.first { $0.name == name } }

    /// Parses and validates header bytes.
    /// - Parameters:
    ///   - rawHeader: the N JSON bytes.
    ///   - dataSize: the size of the data section when known (the file size minus 8 + N); the
    ///     entries must then cover it exactly.
    ///   - path: the file, for error messages.
    public init(rawHeader: [UInt8], dataSize: Int?, path: String) throws {
        let json: JSONValue
        do { json = try StrictJSONParser.parse(rawHeader) } catch let error as JSONSyntaxError {
            if String(validating: rawHeader, as: UTF8.self) == nil {
                throw TensorIOError(.invalidHeader, path: path, "safetensors header is not valid UTF-8")
            }
            throw TensorIOError(
                .invalidHeader,
                path: path,
                "safetensors header is not valid JSON (\(error.reason) at byte \(error.offset))"
            )
        }
        guard case .object(let members) = json else {
            throw TensorIOError(.invalidHeader, path: path, "safetensors header is not a JSON object")
        }
        var entries: [SafetensorsEntry] = []
        var metadata: [SafetensorsMetadataItem] = []
        for (name, value) in members {
            if name == "__metadata__" {
                guard case .object(let items) = value else {
                    throw TensorIOError(.invalidHeader, path: path, "'__metadata__' is not a map of strings")
                }
                for (key, item) in items {
                    guard case .string(let text) = item else {
                        throw TensorIOError(.invalidHeader, path: path, "metadata value '\(key)' is not a string")
                    }
                    metadata.append(SafetensorsMetadataItem(key: key, value: text))
                }
                continue
            }
            entries.append(try Self.entry(name: name, value, path: path))
        }
        try Self.checkTiling(entries, dataSize: dataSize, path: path)
        self.entries = entries
        self.metadata = metadata
        self.rawHeader = rawHeader
    }

    private static func entry(name: String, _ value: JSONValue, path: String) throws -> SafetensorsEntry {
        guard case .object(let fields) = value else {
            throw TensorIOError(.invalidHeader, path: path, "tensor '\(name)' is not described by an object")
        }
        var dtypeName: String?
        var dims: [Int]?
        var offsets: [Int]?
        for (key, field) in fields {
            switch (key, field) {
            case ("dtype", .string(let s)): dtypeName = s
            case ("shape", .array(let a)):
                dims = a.compactMap { if case .integer(let i) = $0 { i } else { nil } }
                if dims?.count != a.count { dims = nil }
            case ("data_offsets", .array(let a)):
                offsets = a.compactMap { if case .integer(let i) = $0 { i } else { nil } }
                if offsets?.count != a.count { offsets = nil }
            default:
                throw TensorIOError(.invalidHeader, path: path, "tensor '\(name)' has an invalid field '\(key)'")
            }
        }
        guard let dtypeName else { throw TensorIOError(.invalidHeader, path: path, "tensor '\(name)' has no dtype") }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw TensorIOError(.unknownDType, path: path, "tensor '\(name)' has unknown dtype '\(dtypeName)'")
        }
        guard let dims else { throw TensorIOError(.invalidHeader, path: path, "tensor '\(name)' has no valid shape") }
        let shape: Shape
        do { shape = try Shape.validated(dims) } catch {
            throw TensorIOError(.invalidHeader, path: path, "tensor '\(name)': \(error.message)")
        }
        guard let offsets, offsets.count == 2 else {
            throw TensorIOError(.invalidHeader, path: path, "tensor '\(name)' has no valid data_offsets")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, end >= begin else {
            throw TensorIOError(
                .invalidOffsets,
                path: path,
                "tensor '\(name)' has data_offsets [\(begin), \(end)] out of order"
            )
        }
        let (expected, overflow) = shape.elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, end - begin == expected else {
            throw TensorIOError(
                .invalidOffsets,
                path: path,
                "tensor '\(name)' spans \(end - begin) bytes but \(dtype.rawValue) \(shape) needs \(expected)"
            )
        }
        return SafetensorsEntry(name: name, dtype: dtype, shape: shape, dataRange: begin..<end)
    }

    private static func checkTiling(_ entries: [SafetensorsEntry], dataSize: Int?, path: String) throws {
        var cursor = 0
        for e in entries.sorted(by: {
            ($0.dataRange.lowerBound, $0.dataRange.upperBound) < ($1.dataRange.lowerBound, $1.dataRange.upperBound)
        }) {
            guard e.dataRange.lowerBound == cursor else {
                let what = e.dataRange.lowerBound < cursor ? "overlaps the tensor before it" : "leaves a gap before it"
                throw TensorIOError(
                    .invalidOffsets,
                    path: path,
                    "tensor '\(e.name)' at data_offsets [\(e.dataRange.lowerBound), \(e.dataRange.upperBound)] \(what)"
                )
            }
            cursor = e.dataRange.upperBound
        }
        if let dataSize, cursor != dataSize {
            let what =
                cursor > dataSize
                ? "past the end of the file (\(dataSize) data bytes)"
                : "short of the \(dataSize) data bytes in the file"
            throw TensorIOError(
                cursor > dataSize ? .truncated : .invalidOffsets,
                path: path,
                "tensors end at data byte \(cursor), \(what)"
            )
        }
    }

    /// The canonical header for tensors laid out one after the other in the order given.
    public static func canonicalBytes(
        for tensors: [(name: String, dtype: DType, shape: Shape)],
        metadata: [SafetensorsMetadataItem]
    ) -> [UInt8] {
        var offset = 0
        let entries = tensors.map { t in
            let size = t.shape.elementCount * t.dtype.byteSize
            defer { offset += size }
            return SafetensorsEntry(name: t.name, dtype: t.dtype, shape: t.shape, dataRange: offset..<offset + size)
        }
        return canonicalBytes(entries: entries, metadata: metadata)
    }

    /// Builds the canonical header for `entries` and `metadata`: compact JSON, `__metadata__`
    /// first, tensors in data order, padded with spaces to a multiple of 8 bytes as the
    /// reference writer does.
    static func canonicalBytes(entries: [SafetensorsEntry], metadata: [SafetensorsMetadataItem]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let items = metadata.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            parts.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        for e in entries {
            let shape = e.shape.dimensions.map(String.init).joined(separator: ",")
            parts.append(
                "\(jsonString(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(e.dataRange.lowerBound),\(e.dataRange.upperBound)]}"
            )
        }
        var bytes = Array("{\(parts.joined(separator: ","))}".utf8)
        while bytes.count % 8 != 0 { bytes.append(0x20) }
        return bytes
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                out +=
                    "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count)
                    + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// One `__metadata__` key and value.
public struct SafetensorsMetadataItem: Sendable, Hashable {
    /// The key.
    public let key: String
    /// The value (safetensors metadata values are strings).
    public let value: String
    /// Creates an item.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
