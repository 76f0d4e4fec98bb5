import CLMDB
import Foundation

/// LMDB with no abstraction at all: the "limit" contenders write through this.
///
/// `@unchecked Sendable`: the environment is opened with `MDB_NOTLS`, so its handle may be used from any
/// thread; the database handles are set once in `init` and never change. Transactions never leave the
/// synchronous call that began them.
final class RawLMDB: @unchecked Sendable {
    let environment: OpaquePointer
    private let handles: [String: MDB_dbi]

    /// Opens (creating when needed) an environment at `path` with the named databases. Default flags: every
    /// commit flushes data and meta page, exactly as Cumulus's `.full` durability.
    init(path: String, databases: [String], flags: Int32 = 0) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var environment: OpaquePointer?
        try Self.check(mdb_env_create(&environment), "mdb_env_create")
        guard let environment else { throw BenchError("mdb_env_create gave no handle") }
        self.environment = environment
        var handles: [String: MDB_dbi] = [:]
        do {
            try Self.check(mdb_env_set_maxdbs(environment, 8), "mdb_env_set_maxdbs")
            try Self.check(mdb_env_set_mapsize(environment, 64 << 30), "mdb_env_set_mapsize")
            try Self.check(mdb_env_open(environment, path, UInt32(MDB_NOTLS | flags), 0o644), "mdb_env_open(\(path))")
            var txn: OpaquePointer?
            try Self.check(mdb_txn_begin(environment, nil, 0, &txn), "mdb_txn_begin")
            for name in databases {
                var handle: MDB_dbi = 0
                let code = mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &handle)
                if code != 0 { mdb_txn_abort(txn) }
                try Self.check(code, "mdb_dbi_open(\(name))")
                handles[name] = handle
            }
            try Self.check(mdb_txn_commit(txn), "mdb_txn_commit")
        } catch {
            mdb_env_close(environment)
            throw error
        }
        self.handles = handles
    }

    deinit { mdb_env_close(environment) }

    /// The handle of a database opened in `init`.
    func handle(_ name: String) throws -> MDB_dbi {
        guard let handle = handles[name] else { throw BenchError("database \(name) was not opened") }
        return handle
    }

    /// Runs `body` in a write transaction and commits it (durably unless opened with `MDB_NOSYNC`).
    func write<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        var txn: OpaquePointer?
        try Self.check(mdb_txn_begin(environment, nil, 0, &txn), "mdb_txn_begin")
        guard let txn else { throw BenchError("mdb_txn_begin gave no transaction") }
        let result: R
        do {
            result = try body(txn)
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try Self.check(mdb_txn_commit(txn), "mdb_txn_commit")
        return result
    }

    /// Runs `body` in a read transaction.
    func read<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        var txn: OpaquePointer?
        try Self.check(mdb_txn_begin(environment, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin(read)")
        guard let txn else { throw BenchError("mdb_txn_begin gave no transaction") }
        defer { mdb_txn_abort(txn) }
        return try body(txn)
    }

    /// Stores `value` under `key`.
    static func put(
        _ txn: OpaquePointer, _ dbi: MDB_dbi, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        flags: Int32 = 0
    ) throws {
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var dataValue = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(txn, dbi, &keyValue, &dataValue, UInt32(flags)), "mdb_put")
    }

    /// Calls `body` with every (key, value) of `dbi` in key order; the bytes are valid only during the call.
    static func forEach(
        _ txn: OpaquePointer, _ dbi: MDB_dbi, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var data = MDB_val()
        var code = mdb_cursor_get(cursor, &key, &data, MDB_FIRST)
        while code == 0 {
            try body(
                UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size),
                UnsafeRawBufferPointer(start: data.mv_data, count: data.mv_size)
            )
            code = mdb_cursor_get(cursor, &key, &data, MDB_NEXT)
        }
        if code != MDB_NOTFOUND { try check(code, "mdb_cursor_get") }
    }

    /// Throws unless `code` is `MDB_SUCCESS`.
    static func check(_ code: Int32, _ what: @autoclosure () -> String) throws {
        if code != 0 { throw BenchError("\(what()): \(String(cString: mdb_strerror(code)))") }
    }
}
