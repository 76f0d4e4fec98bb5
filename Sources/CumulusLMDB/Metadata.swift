internal import CLMDB
import CumulusLog

/// The `meta` database: what makes a directory a Cumulus log, and the values checked by `verify`.
///
/// | key | value |
/// | --- | --- |
/// | `format` | UInt32 little-endian: the on-disk format version (1) |
/// | `chain` | UInt64 little-endian last position, then its 32-byte chain link |
/// | `txn` | UInt64 little-endian: the LMDB transaction id of the last write (detects a rolled-back meta page) |
enum Metadata {
    static let formatVersion: UInt32 = 1

    static func initialise(_ txn: borrowing Transaction) throws(EventStoreError) {
        try put(txn, "format", bytes(of: formatVersion.littleEndian))
        try writeChainHead(txn, position: 0, link: .genesis)
        try stampTransaction(txn)
    }

    static func checkFormat(_ txn: borrowing Transaction, path: String) throws(EventStoreError) {
        guard let raw = try get(txn, "format") else {
            throw .notACumulusLog(path: path, reason: "it has no format version")
        }
        guard raw.count == 4 else { throw .notACumulusLog(path: path, reason: "its format version is unreadable") }
        let found = UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self))
        guard found <= formatVersion, found > 0 else {
            throw .unsupportedFormat(path: path, found: found, supported: formatVersion)
        }
    }

    static func chainHead(_ txn: borrowing Transaction) throws(EventStoreError) -> (UInt64, ChainLink) {
        guard let raw = try get(txn, "chain"), raw.count == 40 else {
            throw .integrityViolation(
                position: nil, reason: "the chain head in the meta database is missing or damaged")
        }
        return (UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)), ChainLink(reading: raw, at: 8))
    }

    static func writeChainHead(_ txn: borrowing Transaction, position: UInt64, link: ChainLink) throws(EventStoreError)
    {
        try put(txn, "chain", bytes(of: position.littleEndian) + link.bytes)
    }

    /// Records this write transaction's id; `verify` compares it with the id of the snapshot it reads.
    static func stampTransaction(_ txn: borrowing Transaction) throws(EventStoreError) {
        try put(txn, "txn", bytes(of: txn.id.littleEndian))
    }

    static func lastTransaction(_ txn: borrowing Transaction) throws(EventStoreError) -> UInt64? {
        guard let raw = try get(txn, "txn"), raw.count == 8 else { return nil }
        return UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
    }

    private static func get(
        _ txn: borrowing Transaction, _ key: String
    ) throws(EventStoreError) -> UnsafeRawBufferPointer? {
        let keyBytes = Array(key.utf8)
        return try withBytes(keyBytes) { (raw) throws(EventStoreError) in
            try txn.get(txn.databases.meta, key: raw)
        }
    }

    private static func put(_ txn: borrowing Transaction, _ key: String, _ value: [UInt8]) throws(EventStoreError) {
        let keyBytes = Array(key.utf8)
        try withBytes(keyBytes) { (keyRaw) throws(EventStoreError) in
            try withBytes(value) { (valueRaw) throws(EventStoreError) in
                try txn.put(txn.databases.meta, key: keyRaw, value: valueRaw, "put meta \(key)")
            }
        }
    }
}

func bytes<T>(of value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}
