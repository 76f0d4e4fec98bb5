internal import CLMDB
import CumulusLog

/// A cursor of the write transaction, for runs of puts and lookups that land next to each other.
///
/// Why a cursor and not `mdb_put`/`mdb_get`: `mdb_put` searches the tree from the root for every key; a cursor
/// remembers its page. `MDB_APPEND` through a cursor that stands at the end skips the search entirely, and a
/// lookup or put of a key on the cursor's current page searches that page only — so keys visited in order
/// (positions, time-ordered ids, sorted stream names) cost little.
///
/// Never closed explicitly: LMDB closes a write transaction's cursors when the transaction commits or aborts,
/// and closing one after that would free it twice. It must not outlive its transaction.
struct WriteCursor {
    private let pointer: OpaquePointer

    init(_ txn: borrowing Transaction, _ database: MDB_dbi, _ name: @autoclosure () -> String) throws(EventStoreError) {
        var cursor: OpaquePointer?
        try LMDBCall.check(mdb_cursor_open(txn.pointer, database, &cursor), "mdb_cursor_open(\(name()))")
        guard let cursor else {
            throw .storage(operation: "mdb_cursor_open(\(name()))", code: -1, message: "no cursor")
        }
        pointer = cursor
    }

    /// The value stored under `key` (valid until the next write), or nil; the cursor moves to the key.
    func value(at key: UnsafeRawBufferPointer) throws(EventStoreError) -> UnsafeRawBufferPointer? {
        try withValue(key) { (keyValue) throws(EventStoreError) -> UnsafeRawBufferPointer? in
            var data = MDB_val()
            let code = mdb_cursor_get(pointer, &keyValue, &data, MDB_SET_KEY)
            if code == MDB_NOTFOUND { return nil }
            try LMDBCall.check(code, "mdb_cursor_get(set key)")
            return UnsafeRawBufferPointer(data)
        }
    }

    /// Stores `value` under `key`.
    /// - Parameter appending: the key follows every stored key (`MDB_APPEND`); otherwise it must be new
    ///   (`MDB_NOOVERWRITE`) when `overwriting` is false.
    func put(
        key: UnsafeRawBufferPointer,
        value: UnsafeRawBufferPointer,
        appending: Bool = false,
        overwriting: Bool = true,
        _ operation: @autoclosure () -> String
    ) throws(EventStoreError) {
        let flags = appending ? MDB_APPEND : overwriting ? 0 : MDB_NOOVERWRITE
        try withValue(key) { (keyValue) throws(EventStoreError) in
            try withValue(value) { (dataValue) throws(EventStoreError) in
                try LMDBCall.check(mdb_cursor_put(pointer, &keyValue, &dataValue, UInt32(flags)), operation())
            }
        }
    }

    /// Appends `key` (greater than every stored key) with `count` bytes of space (`MDB_APPEND | MDB_RESERVE`)
    /// and lets `fill` write them; the space must be filled before the next write to the transaction.
    func append<R>(
        key: UnsafeRawBufferPointer,
        reserving count: Int,
        _ operation: @autoclosure () -> String,
        fill: (UnsafeMutableRawBufferPointer) -> R
    ) throws(EventStoreError) -> R {
        let space = try withValue(key) { (keyValue) throws(EventStoreError) -> UnsafeMutableRawBufferPointer in
            var data = MDB_val(mv_size: count, mv_data: nil)
            try LMDBCall.check(
                mdb_cursor_put(pointer, &keyValue, &data, UInt32(MDB_APPEND | MDB_RESERVE)), operation())
            return UnsafeMutableRawBufferPointer(start: data.mv_data, count: data.mv_size)
        }
        guard space.count == count else {
            throw .storage(
                operation: operation(), code: -1, message: "LMDB reserved \(space.count) bytes, not \(count)")
        }
        return fill(space)
    }
}
