import CLMDB
import Foundation

/// LMDB with no abstraction at all: the "limit" contenders write through this.
final class RawLMDB {
    let environment: OpaquePointer
    private var handles: [String: MDB_dbi] = [:]

    init(path: String, databases: [String], flags: Int32 = 0) {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var environment: OpaquePointer?
        Self.check(mdb_env_create(&environment), "mdb_env_create")
        guard let environment else { fatalError("mdb_env_create gave no handle") }
        self.environment = environment
        Self.check(mdb_env_set_maxdbs(environment, 8), "maxdbs")
        Self.check(mdb_env_set_mapsize(environment, 64 << 30), "mapsize")
        Self.check(mdb_env_open(environment, path, UInt32(MDB_NOTLS | flags), 0o644), "mdb_env_open")
        write { txn in
            for name in databases {
                var handle: MDB_dbi = 0
                Self.check(mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &handle), "mdb_dbi_open")
                handles[name] = handle
            }
        }
    }

    deinit { mdb_env_close(environment) }

    func handle(_ name: String) -> MDB_dbi { handles[name] ?? 0 }

    func write(_ body: (OpaquePointer) -> Void) {
        var txn: OpaquePointer?
        Self.check(mdb_txn_begin(environment, nil, 0, &txn), "mdb_txn_begin")
        guard let txn else { fatalError("no transaction") }
        body(txn)
        Self.check(mdb_txn_commit(txn), "mdb_txn_commit")
    }

    func read(_ body: (OpaquePointer) -> Void) {
        var txn: OpaquePointer?
        Self.check(mdb_txn_begin(environment, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin(read)")
        guard let txn else { fatalError("no transaction") }
        body(txn)
        mdb_txn_abort(txn)
    }

    static func put(
        _ txn: OpaquePointer, _ dbi: MDB_dbi, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        flags: Int32 = 0
    ) {
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var dataValue = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        check(mdb_put(txn, dbi, &keyValue, &dataValue, UInt32(flags)), "mdb_put")
    }

    static func check(_ code: Int32, _ what: String) {
        if code != 0 { fatalError("\(what): \(String(cString: mdb_strerror(code)))") }
    }
}
