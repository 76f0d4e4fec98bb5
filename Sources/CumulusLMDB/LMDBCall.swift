internal import CLMDB
import CumulusLog

/// Turns LMDB's integer return codes into `EventStoreError` in one place.
enum LMDBCall {
    /// Throws `EventStoreError.storage(operation:code:message:)` unless `code` is `MDB_SUCCESS`.
    @inline(__always)
    static func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(EventStoreError) {
        guard code != MDB_SUCCESS else { return }
        throw failure(code, operation())
    }

    static func failure(_ code: Int32, _ operation: String) -> EventStoreError {
        let message = mdb_strerror(code).map { String(cString: $0) } ?? "unknown error"
        if code == MDB_CORRUPTED || code == MDB_PAGE_NOTFOUND {
            // Damage LMDB noticed itself: say so, as the other integrity checks do.
            return .integrityViolation(
                position: nil,
                reason: "the storage engine found a damaged page during \(operation) (\(message)); nothing was "
                    + "written. Restore data.mdb from a backup"
            )
        }
        return .storage(operation: operation, code: code, message: message)
    }

    static func isMapFull(_ error: EventStoreError) -> Bool {
        if case .storage(_, let code, _) = error, code == MDB_MAP_FULL { return true }
        return false
    }
}

/// Bytes handed to or read from LMDB. Read values point into the memory map and are valid only until
/// their transaction ends: decode or copy them before that.
extension UnsafeRawBufferPointer {
    init(_ value: MDB_val) {
        self.init(start: value.mv_data, count: value.mv_size)
    }
}

@inline(__always)
func withValue<R>(
    _ bytes: UnsafeRawBufferPointer,
    _ body: (inout MDB_val) throws(EventStoreError) -> R
) throws(EventStoreError) -> R {
    var value = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    return try body(&value)
}

/// Big-endian 8-byte keys sort in numeric order under LMDB's default byte-wise comparison.
@inline(__always)
func withPositionKey<R>(
    _ position: UInt64,
    _ body: (inout MDB_val) throws(EventStoreError) -> R
) throws(EventStoreError) -> R {
    var key = position.bigEndian
    return try withUnsafeMutableBytes(of: &key) { (raw) throws(EventStoreError) -> R in
        var value = MDB_val(mv_size: 8, mv_data: raw.baseAddress)
        return try body(&value)
    }
}

@inline(__always)
func positionFromKey(_ value: MDB_val) -> UInt64 {
    guard value.mv_size == 8, let data = value.mv_data else { return 0 }
    return UInt64(bigEndian: data.loadUnaligned(as: UInt64.self))
}

/// `Array.withUnsafeBytes` with a typed error (the standard library's only rethrows an untyped one).
@inline(__always)
func withBytes<R>(
    _ array: [UInt8],
    _ body: (UnsafeRawBufferPointer) throws(EventStoreError) -> R
) throws(EventStoreError) -> R {
    let result: Result<R, EventStoreError> = array.withUnsafeBytes { raw in
        Result { () throws(EventStoreError) -> R in try body(raw) }
    }
    return try result.get()
}
