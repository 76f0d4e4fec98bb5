internal import CLMDB
import CumulusLog
import Foundation

/// The named databases of a Cumulus environment, opened once at start and shared.
struct Databases: Sendable {
    /// Events by position (8-byte big-endian key), appended with `MDB_APPEND`.
    var events: MDB_dbi = 0
    /// Stream heads: stream name → (version, position of its last event).
    var streams: MDB_dbi = 0
    /// Event-id index: 16-byte id → 8-byte big-endian position.
    var eventIDs: MDB_dbi = 0
    /// Projection checkpoints: name → (position, SHA-256, state).
    var checkpoints: MDB_dbi = 0
    /// Format version, chain head, last transaction id, creation time.
    var meta: MDB_dbi = 0

    static let names = ["events", "streams", "eventIDs", "checkpoints", "meta"]
}

/// One LMDB transaction. Not `Sendable`: it lives and dies on the thread that began it, within one
/// synchronous call, never across an `await`.
struct Transaction: ~Copyable {
    let pointer: OpaquePointer
    let databases: Databases

    /// The id LMDB gives this transaction (for a read transaction, the snapshot's).
    var id: UInt64 { UInt64(mdb_txn_id(pointer)) }

    /// The value stored under `key`, valid until the transaction ends, or nil.
    func get(_ database: MDB_dbi, key: UnsafeRawBufferPointer) throws(EventStoreError) -> UnsafeRawBufferPointer? {
        try withValue(key) { (keyValue) throws(EventStoreError) -> UnsafeRawBufferPointer? in
            var data = MDB_val()
            let code = mdb_get(pointer, database, &keyValue, &data)
            if code == MDB_NOTFOUND { return nil }
            try LMDBCall.check(code, "mdb_get")
            return UnsafeRawBufferPointer(data)
        }
    }

    /// The event record at `position`, valid until the transaction ends, or nil.
    func record(at position: UInt64) throws(EventStoreError) -> UnsafeRawBufferPointer? {
        try withPositionKey(position) { (key) throws(EventStoreError) -> UnsafeRawBufferPointer? in
            var data = MDB_val()
            let code = mdb_get(pointer, databases.events, &key, &data)
            if code == MDB_NOTFOUND { return nil }
            try LMDBCall.check(code, "mdb_get(events, \(position))")
            return UnsafeRawBufferPointer(data)
        }
    }

    /// Stores `value` under `key`.
    func put(
        _ database: MDB_dbi,
        key: UnsafeRawBufferPointer,
        value: UnsafeRawBufferPointer,
        flags: Int32 = 0,
        _ operation: @autoclosure () -> String
    ) throws(EventStoreError) {
        try withValue(key) { (keyValue) throws(EventStoreError) in
            try withValue(value) { (dataValue) throws(EventStoreError) in
                try LMDBCall.check(mdb_put(pointer, database, &keyValue, &dataValue, UInt32(flags)), operation())
            }
        }
    }

    /// Appends an event record at `position`, which must follow the last stored position.
    func appendRecord(at position: UInt64, _ record: UnsafeRawBufferPointer) throws(EventStoreError) {
        try withPositionKey(position) { (key) throws(EventStoreError) in
            try withValue(record) { (data) throws(EventStoreError) in
                try LMDBCall.check(
                    mdb_put(pointer, databases.events, &key, &data, UInt32(MDB_APPEND)),
                    "append event at position \(position)"
                )
            }
        }
    }

    /// The position the event-id index holds for `id`, or nil.
    func position(ofEventID id: EventID) throws(EventStoreError) -> UInt64? {
        var uuid = id.uuid.uuid
        var data = MDB_val()
        let code = withUnsafeMutableBytes(of: &uuid) { raw -> Int32 in
            var key = MDB_val(mv_size: 16, mv_data: raw.baseAddress)
            return mdb_get(pointer, databases.eventIDs, &key, &data)
        }
        if code == MDB_NOTFOUND { return nil }
        try LMDBCall.check(code, "mdb_get(eventIDs, \(id))")
        guard data.mv_size == 8, let bytes = data.mv_data else {
            throw .integrityViolation(position: nil, reason: "the event-id index entry of \(id) is damaged")
        }
        return UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
    }

    /// The greatest id in the event-id index, as an order key, or nil when it is empty.
    func greatestEventID() throws(EventStoreError) -> EventID.OrderKey? {
        var cursor: OpaquePointer?
        try LMDBCall.check(mdb_cursor_open(pointer, databases.eventIDs, &cursor), "mdb_cursor_open(eventIDs)")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var data = MDB_val()
        let code = mdb_cursor_get(cursor, &key, &data, MDB_LAST)
        if code == MDB_NOTFOUND { return nil }
        try LMDBCall.check(code, "mdb_cursor_get(eventIDs, last)")
        guard key.mv_size == 16, let bytes = key.mv_data else {
            throw .integrityViolation(position: nil, reason: "an event-id index key has \(key.mv_size) bytes, not 16")
        }
        return EventID.OrderKey(
            high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        )
    }

    /// Indexes `id` at `position`; the id must not be indexed yet.
    func index(eventID id: EventID, at position: UInt64) throws(EventStoreError) {
        var uuid = id.uuid.uuid
        var value = position.bigEndian
        let code = withUnsafeMutableBytes(of: &uuid) { keyRaw -> Int32 in
            withUnsafeMutableBytes(of: &value) { valueRaw -> Int32 in
                var key = MDB_val(mv_size: 16, mv_data: keyRaw.baseAddress)
                var data = MDB_val(mv_size: 8, mv_data: valueRaw.baseAddress)
                return mdb_put(pointer, databases.eventIDs, &key, &data, UInt32(MDB_NOOVERWRITE))
            }
        }
        try LMDBCall.check(code, "index event id \(id)")
    }

    /// The highest position stored, 0 when the log is empty.
    func lastPosition() throws(EventStoreError) -> UInt64 {
        var cursor: OpaquePointer?
        try LMDBCall.check(mdb_cursor_open(pointer, databases.events, &cursor), "mdb_cursor_open(events)")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var data = MDB_val()
        let code = mdb_cursor_get(cursor, &key, &data, MDB_LAST)
        if code == MDB_NOTFOUND { return 0 }
        try LMDBCall.check(code, "mdb_cursor_get(events, last)")
        return positionFromKey(key)
    }

    /// Number of entries in a database.
    func count(_ database: MDB_dbi) throws(EventStoreError) -> UInt64 {
        var stat = MDB_stat()
        try LMDBCall.check(mdb_stat(pointer, database, &stat), "mdb_stat")
        return UInt64(stat.ms_entries)
    }

    /// Calls `body` with each (key, value) of `database` in key order, starting at the first key ≥ `start`
    /// (or the first key), until it returns false.
    func forEach(
        _ database: MDB_dbi,
        from start: UnsafeRawBufferPointer? = nil,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(EventStoreError) -> Bool
    ) throws(EventStoreError) {
        var cursor: OpaquePointer?
        try LMDBCall.check(mdb_cursor_open(pointer, database, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var data = MDB_val()
        var code: Int32
        if let start {
            key = MDB_val(mv_size: start.count, mv_data: UnsafeMutableRawPointer(mutating: start.baseAddress))
            code = mdb_cursor_get(cursor, &key, &data, MDB_SET_RANGE)
        } else {
            code = mdb_cursor_get(cursor, &key, &data, MDB_FIRST)
        }
        while code == MDB_SUCCESS {
            guard try body(UnsafeRawBufferPointer(key), UnsafeRawBufferPointer(data)) else { return }
            code = mdb_cursor_get(cursor, &key, &data, MDB_NEXT)
        }
        if code != MDB_NOTFOUND { try LMDBCall.check(code, "mdb_cursor_get") }
    }

    /// Calls `body` with each event record after `position`, in order, until it returns false.
    ///
    /// Only in a read transaction: the walk moves the cursor to the next record *before* calling `body` with
    /// the current one, and asks the CPU to prefetch the next record's first bytes, so that the cache misses
    /// of a cold log overlap with decoding instead of following it. A read transaction's records stay valid
    /// until it ends; in a write transaction a `body` that wrote could invalidate the current record.
    func forEachRecord(
        after position: UInt64,
        _ body: (UInt64, UnsafeRawBufferPointer) throws(EventStoreError) -> Bool
    ) throws(EventStoreError) {
        var cursor: OpaquePointer?
        try LMDBCall.check(mdb_cursor_open(pointer, databases.events, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var start = (position &+ 1).bigEndian
        var key = MDB_val()
        var data = MDB_val()
        var code = withUnsafeMutableBytes(of: &start) { (startBytes) -> Int32 in
            key = MDB_val(mv_size: startBytes.count, mv_data: startBytes.baseAddress)
            return mdb_cursor_get(cursor, &key, &data, MDB_SET_RANGE)
        }
        var nextKey = MDB_val()
        var nextData = MDB_val()
        while code == MDB_SUCCESS {
            let nextCode = mdb_cursor_get(cursor, &nextKey, &nextData, MDB_NEXT)
            if nextCode == MDB_SUCCESS { cumulus_prefetch(nextData.mv_data, nextData.mv_size, Self.prefetchLimit) }
            guard key.mv_size == 8, let keyBytes = key.mv_data else {
                throw .integrityViolation(position: nil, reason: "an event key has \(key.mv_size) bytes, not 8")
            }
            let current = UInt64(bigEndian: keyBytes.loadUnaligned(as: UInt64.self))
            // A failed step invalidates the transaction: report it here, where the position is known, rather
            // than as the next lookup's MDB_BAD_TXN.
            if nextCode != MDB_SUCCESS && nextCode != MDB_NOTFOUND {
                throw LMDBCall.failure(nextCode, "mdb_cursor_get(events, after position \(current))")
            }
            guard try body(current, UnsafeRawBufferPointer(data)) else { return }
            key = nextKey
            data = nextData
            code = nextCode
        }
        if code != MDB_NOTFOUND { try LMDBCall.check(code, "mdb_cursor_get") }
    }

    /// How much of the next record the walk prefetches: the envelope, names and a typical payload. A longer
    /// payload is read sequentially by the copy, which the hardware prefetcher follows on its own.
    private static let prefetchLimit = 512
}
