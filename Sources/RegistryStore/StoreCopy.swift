import Crypto
import Foundation

/// Copies a store into another, across backends (`fusebox copy --from SRC --to DST`).
///
/// The source is read in one snapshot; the destination is written in one transaction, so a copy
/// that fails or is killed leaves the destination as it was. Every blob is streamed (memory stays
/// bounded) and hashed as it is written; every row keeps its key, so ids, version numbers and
/// references survive. Before committing, the destination is verified against the source: each
/// table's rows must be equal (bit for bit: a digest of every row, in key order) and each blob
/// must be re-read and hash to its record.
///
/// Idempotent: a row or blob already present and equal is left alone, so copying again changes
/// nothing, and copying after the source grew adds what is new. A destination row that differs is
/// overwritten where the schema allows it (an alias that moved, a run that finished); history the
/// schema keeps immutable (alias events, tombstones, tokens) makes the copy fail, as does a
/// destination holding rows the source lacks: copy into an empty store.
public enum StoreCopy {
    /// What a copy did and checked.
    public struct Report: Sendable, Hashable {
        /// Rows in the source (all tables).
        public var rows = 0
        /// Rows inserted into the destination.
        public var rowsInserted = 0
        /// Destination rows overwritten because they differed.
        public var rowsUpdated = 0
        /// Blobs in the source.
        public var blobs = 0
        /// Blobs written to the destination.
        public var blobsWritten = 0
        /// Bytes of the blobs written.
        public var bytesWritten = 0
        /// Bytes re-read and hashed in the destination to verify it (every blob's).
        public var bytesVerified = 0
    }

    /// Copies `source` into `destination` and verifies the result before committing.
    /// - Throws: ``RegistryError``: `conflict` when the destination holds other data under the
    ///   same keys, `corruptData` when a source blob fails its checksum or the verification fails;
    ///   the destination is then unchanged.
    public static func copy(from source: any RegistryBackend, to destination: any RegistryBackend) throws -> Report {
        guard source.address != destination.address else {
            throw RegistryError(.invalidInput, "The source and the destination are the same store (\(source.address)).")
        }
        return try source.read { from in
            try destination.write { to in
                var report = Report()
                try copyBlobs(from: from, to: to, &report)
                for table in StoreTable.all { try copyRows(of: table, from: from, to: to, &report) }
                try to.finishExplicitIds()
                try verify(from: from, to: to, &report)
                return report
            }
        }
    }

    private static func copyBlobs(from: any BackendSnapshot, to: any BackendTransaction, _ report: inout Report) throws
    {
        for blob in try from.blobs() {
            report.blobs += 1
            if let present = try to.blob(id: blob.id) {
                guard present == blob else {
                    throw RegistryError(
                        .conflict,
                        "The destination's blob \(blob.id) holds other bytes than the source's; copy into an empty store."
                    )
                }
                continue
            }
            try to.storeBlob(blob) { emit in try from.streamBlob(blob, emit) }
            report.blobsWritten += 1
            report.bytesWritten += blob.byteCount
        }
    }

    /// How many rows are looked up and inserted together.
    static let pageSize = 1_000

    private static func copyRows(
        of table: StoreTable,
        from: any BackendSnapshot,
        to: any BackendTransaction,
        _ report: inout Report
    ) throws {
        var inserted = 0
        var updated = 0
        var rows = 0
        var page: [[StoreValue]] = []
        page.reserveCapacity(pageSize)
        let keyCount = table.key.count
        /// Looks the page's keys up in the destination at once, inserts what is missing at once,
        /// and updates what differs row by row (only a copy into a changed store has any).
        func flush() throws {
            defer { page.removeAll(keepingCapacity: true) }
            let present = Dictionary(
                try to.rows(of: table, keys: page.map { Array($0.prefix(keyCount)) }).map {
                    (Array($0.prefix(keyCount)), $0)
                },
                uniquingKeysWith: { first, _ in first }
            )
            var missing: [[StoreValue]] = []
            for row in page {
                switch present[Array(row.prefix(keyCount))] {
                case nil:
                    missing.append(row)
                case let existing? where existing != row:
                    do { try to.update(row, in: table) } catch {
                        throw RegistryError(
                            .conflict,
                            "The destination's \(table.name) row \(describe(row.prefix(keyCount))) differs from the source's and cannot be changed; copy into an empty store.",
                            cause: error
                        )
                    }
                    updated += 1
                default:
                    break
                }
            }
            try to.insert(missing, into: table)
            inserted += missing.count
        }
        try from.forEachRow(of: table) { row in
            rows += 1
            page.append(row)
            if page.count == pageSize { try flush() }
        }
        try flush()
        report.rows += rows
        report.rowsInserted += inserted
        report.rowsUpdated += updated
    }

    /// Compares every table by a digest of its rows in key order, and re-reads every blob.
    private static func verify(from: any BackendSnapshot, to: any BackendTransaction, _ report: inout Report) throws {
        for table in StoreTable.all {
            let expected = try digest(of: table, in: from)
            let actual = try digest(of: table, in: to)
            guard expected == actual else {
                throw RegistryError(
                    .conflict,
                    "After the copy, the destination's table \(table.name) differs from the source's (\(actual.rows) rows instead of \(expected.rows)): it holds rows the source lacks. Copy into an empty store; nothing was written."
                )
            }
        }
        let expected = try from.blobs()
        let actual = try to.blobs()
        guard expected == actual else {
            throw RegistryError(
                .conflict,
                "After the copy, the destination holds \(actual.count) blobs instead of \(expected.count): it holds blobs the source lacks. Copy into an empty store; nothing was written."
            )
        }
        for blob in actual {
            try to.streamBlob(blob) { _ in }
            report.bytesVerified += blob.byteCount
        }
    }

    /// The SHA-256 of a table's rows in key order, each value typed and length-prefixed.
    private static func digest(of table: StoreTable, in snapshot: any BackendSnapshot) throws -> TableDigest {
        var hasher = SHA256()
        var rows = 0
        try snapshot.forEachRow(of: table) { row in
            rows += 1
            for value in row { value.feed(&hasher) }
        }
        return TableDigest(rows: rows, sha256: Array(hasher.finalize()))
    }

    private struct TableDigest: Equatable {
        let rows: Int
        let sha256: [UInt8]
    }

    private static func describe(_ key: ArraySlice<StoreValue>) -> String {
        "("
            + key.map { value in
                switch value {
                case .null: "NULL"
                case .integer(let integer): "\(integer)"
                case .real(let real): "\(real)"
                case .text(let text): "'\(text)'"
                case .bytes(let bytes): "\(bytes.count) bytes"
                }
            }.joined(separator: ", ") + ")"
    }
}

extension StoreValue {
    /// Feeds a tag byte, then the value (lengths as 8 little-endian bytes), so no two different
    /// rows hash alike.
    fileprivate func feed(_ hasher: inout SHA256) {
        func feed(_ tag: UInt8, _ integer: UInt64) {
            withUnsafeBytes(of: tag) { hasher.update(bufferPointer: $0) }
            withUnsafeBytes(of: integer.littleEndian) { hasher.update(bufferPointer: $0) }
        }
        switch self {
        case .null: feed(0, 0)
        case .integer(let integer): feed(1, UInt64(bitPattern: integer))
        case .real(let real): feed(2, real.bitPattern)
        case .text(let text):
            let utf8 = Array(text.utf8)
            feed(3, UInt64(utf8.count))
            hasher.update(data: utf8)
        case .bytes(let bytes):
            feed(4, UInt64(bytes.count))
            hasher.update(data: bytes)
        }
    }
}
