internal import CLMDB
import CumulusLog
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One open LMDB environment: the memory map of a data directory and its named databases.
///
/// `@unchecked Sendable`: LMDB's environment handle is thread-safe (opened with `MDB_NOTLS`, so read
/// transactions are not tied to threads); the database handles never change after `open`; the map size
/// changes only under the ``ReaderGate`` held exclusive, with no transaction of this process open; `isClosed`
/// is written only under the gate held exclusive and read under it held shared.
final class Environment: @unchecked Sendable {
    let pointer: OpaquePointer
    let path: String
    private(set) var databases = Databases()
    let gate = ReaderGate()
    private let mapSizeState: Mutex<UInt64>
    /// Reader slots of dead processes that `open` reclaimed.
    private(set) var staleReadersCleared: Int32 = 0
    /// Set by ``close()``; every later transaction fails with `EventStoreError.closed`.
    private var isClosed = false

    /// Opens (or, with `create`, creates) the environment at `path`.
    init(path: String, create: Bool, options: LMDBEventStore.Options) throws(EventStoreError) {
        self.path = path
        let dataFile = path + "/data.mdb"
        var info = stat()
        if stat(path, &info) != 0 {
            guard create else { throw .logNotFound(path: path) }
            try Self.makeDirectories(path)
        } else if info.st_mode & S_IFMT != S_IFDIR {
            throw .notACumulusLog(path: path, reason: "it is a file, not a directory")
        }
        let dataExists = stat(dataFile, &info) == 0
        if !dataExists {
            let others = try Self.entries(of: path).filter { $0 != "lock.mdb" }
            if !others.isEmpty {
                throw .notACumulusLog(
                    path: path,
                    reason:
                        "the directory holds other files (\(others.prefix(3).joined(separator: ", "))) and no data.mdb"
                )
            }
            guard create else { throw .logNotFound(path: path) }
        }
        // Before LMDB maps the file: an empty, truncated or half-damaged file is named here, not faulted on.
        if dataExists { try DataFileCheck.check(directory: path) }

        var environment: OpaquePointer?
        try LMDBCall.check(mdb_env_create(&environment), "mdb_env_create")
        guard let environment else { throw .storage(operation: "mdb_env_create", code: -1, message: "no handle") }
        mdb_env_set_assert(environment, StorageFaults.assertion)
        self.pointer = environment
        self.mapSizeState = Mutex(options.initialMapSize)
        var flags = MDB_NOTLS
        if options.readOnly { flags |= MDB_RDONLY }
        switch options.durability {
        case .full: break
        case .noMetaSync: flags |= MDB_NOMETASYNC
        case .deferred: flags |= MDB_NOSYNC
        }
        do throws(EventStoreError) {
            try LMDBCall.check(mdb_env_set_maxdbs(environment, 8), "mdb_env_set_maxdbs")
            try LMDBCall.check(mdb_env_set_maxreaders(environment, options.maximumReaders), "mdb_env_set_maxreaders")
            try LMDBCall.check(mdb_env_set_mapsize(environment, Int(options.initialMapSize)), "mdb_env_set_mapsize")
            let code = mdb_env_open(environment, path, UInt32(flags), 0o644)
            if code == MDB_INVALID || code == MDB_VERSION_MISMATCH {
                throw EventStoreError.notACumulusLog(
                    path: path, reason: "data.mdb is not an LMDB file of a known version")
            }
            try LMDBCall.check(code, "mdb_env_open(\(path))")
            // Reader slots of processes that died are reclaimed now, so they pin no old pages.
            var dead: Int32 = 0
            mdb_reader_check(environment, &dead)
            staleReadersCleared = dead
            var environmentInfo = MDB_envinfo()
            mdb_env_info(environment, &environmentInfo)
            mapSizeState.withLock { $0 = UInt64(environmentInfo.me_mapsize) }
            try openDatabases(create: create)
            try checkChainHead()
        } catch {
            // Every stored property is set by now, so deinit runs and closes the environment.
            throw error
        }
    }

    deinit {
        if !isClosed { mdb_env_close(pointer) }
    }

    /// Closes the environment once no transaction of this process is open; later transactions fail with
    /// `EventStoreError.closed`. The caller makes sure the writer has stopped.
    func close() {
        gate.withExclusive {
            guard !isClosed else { return }
            isClosed = true
            mdb_env_close(pointer)
        }
    }

    /// The current memory-map size in bytes.
    var mapSize: UInt64 { mapSizeState.withLock { $0 } }

    private func openDatabases(create: Bool) throws(EventStoreError) {
        // Inspect first with a read transaction: an existing log is never written to during open.
        var isEmptyEnvironment = false
        try withRawTransaction(readOnly: true) { (txn) throws(EventStoreError) in
            var main: MDB_dbi = 0
            try LMDBCall.check(mdb_dbi_open(txn, nil, 0, &main), "mdb_dbi_open(main)")
            var stat = MDB_stat()
            try LMDBCall.check(mdb_stat(txn, main, &stat), "mdb_stat(main)")
            isEmptyEnvironment = stat.ms_entries == 0
        }
        if isEmptyEnvironment {
            guard create else {
                throw .notACumulusLog(
                    path: path, reason: "data.mdb holds no database; create the log with `cumulus init`")
            }
            try withRawTransaction(readOnly: false) { (txn) throws(EventStoreError) in
                var handles = Databases()
                try open(in: txn, create: true, into: &handles)
                databases = handles
                let transaction = Transaction(pointer: txn, databases: handles)
                try Metadata.initialise(transaction)
            }
            return
        }
        // Committed, not aborted: database handles opened in an aborted transaction are closed with it.
        try withRawTransaction(readOnly: true, commit: true) { (txn) throws(EventStoreError) in
            var handles = Databases()
            try open(in: txn, create: false, into: &handles)
            databases = handles
            try Metadata.checkFormat(Transaction(pointer: txn, databases: handles), path: path)
        }
    }

    private func open(in txn: OpaquePointer, create: Bool, into handles: inout Databases) throws(EventStoreError) {
        var opened: [MDB_dbi] = []
        for name in Databases.names {
            var handle: MDB_dbi = 0
            let code = mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &handle)
            if code == MDB_NOTFOUND || code == MDB_INCOMPATIBLE {
                throw .notACumulusLog(path: path, reason: "it has no '\(name)' database")
            }
            try LMDBCall.check(code, "mdb_dbi_open(\(name))")
            opened.append(handle)
        }
        handles.events = opened[0]
        handles.streams = opened[1]
        handles.eventIDs = opened[2]
        handles.checkpoints = opened[3]
        handles.meta = opened[4]
    }

    /// Runs `body` in a read transaction. Never call it from inside another transaction.
    func read<R>(_ body: (borrowing Transaction) throws(EventStoreError) -> R) throws(EventStoreError) -> R {
        var result: R?
        try withRawTransaction(readOnly: true) { (txn) throws(EventStoreError) in
            result = try body(Transaction(pointer: txn, databases: databases))
        }
        guard let result else { throw .storage(operation: "read", code: -1, message: "no result") }
        return result
    }

    /// Runs `body` in a write transaction and commits it, growing the map and running `body` again
    /// when LMDB reports the map full. Call it only from the writer thread: `body` must be repeatable.
    func write<R>(_ body: (borrowing Transaction) throws(EventStoreError) -> R) throws(EventStoreError) -> R {
        while true {
            var result: R?
            do throws(EventStoreError) {
                try withRawTransaction(readOnly: false) { (txn) throws(EventStoreError) in
                    result = try body(Transaction(pointer: txn, databases: databases))
                }
                guard let result else {
                    throw EventStoreError.storage(operation: "write", code: -1, message: "no result")
                }
                return result
            } catch {
                guard LMDBCall.isMapFull(error) else { throw error }
                try grow()
            }
        }
    }

    /// Begins a transaction, runs `body`, then aborts (read) or commits (write) it. A failed body aborts.
    private func withRawTransaction(
        readOnly: Bool,
        commit: Bool = false,
        _ body: (OpaquePointer) throws(EventStoreError) -> Void
    ) throws(EventStoreError) {
        while true {
            let resized: Bool = try gate.withShared { () throws(EventStoreError) -> Bool in
                if isClosed { throw .closed }
                var txn: OpaquePointer?
                let code = mdb_txn_begin(pointer, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
                if code == MDB_MAP_RESIZED { return true }
                if code == MDB_READERS_FULL {
                    var dead: Int32 = 0
                    mdb_reader_check(pointer, &dead)
                    if dead > 0 { return true }
                }
                try LMDBCall.check(code, readOnly ? "mdb_txn_begin(read)" : "mdb_txn_begin(write)")
                guard let txn else { throw .storage(operation: "mdb_txn_begin", code: -1, message: "no handle") }
                do throws(EventStoreError) {
                    try body(txn)
                } catch {
                    mdb_txn_abort(txn)
                    throw error
                }
                if readOnly && !commit {
                    mdb_txn_abort(txn)
                } else {
                    // After a failed commit LMDB has freed the transaction: it must not be aborted again.
                    try LMDBCall.check(mdb_txn_commit(txn), readOnly ? "mdb_txn_commit(read)" : "mdb_txn_commit")
                }
                return false
            }
            guard resized else { return }
            try adoptMapSize()
        }
    }

    /// Another process grew the map: adopt its size (LMDB reads it from the file when given 0).
    private func adoptMapSize() throws(EventStoreError) {
        try gate.withExclusive { () throws(EventStoreError) in
            try DataFileCheck.check(directory: path)
            try LMDBCall.check(mdb_env_set_mapsize(pointer, 0), "mdb_env_set_mapsize(adopt)")
            var info = MDB_envinfo()
            mdb_env_info(pointer, &info)
            mapSizeState.withLock { $0 = UInt64(info.me_mapsize) }
        }
    }

    /// Doubles the map (by at most 8 GiB at a time). The file is sparse, so this costs no disk.
    private func grow() throws(EventStoreError) {
        try gate.withExclusive { () throws(EventStoreError) in
            var info = MDB_envinfo()
            mdb_env_info(pointer, &info)
            try DataFileCheck.check(directory: path)
            let current = UInt64(info.me_mapsize)
            let step = min(max(current, 1 << 20), 8 << 30)
            let next = current + step
            try LMDBCall.check(mdb_env_set_mapsize(pointer, Int(next)), "mdb_env_set_mapsize(\(next))")
            mdb_env_info(pointer, &info)
            mapSizeState.withLock { $0 = UInt64(info.me_mapsize) }
        }
    }

    /// Reclaims the reader slots of dead processes (which would pin old pages and grow the file).
    /// - Returns: how many slots were reclaimed.
    func clearStaleReaders() throws(EventStoreError) -> Int {
        try gate.withShared { () throws(EventStoreError) -> Int in
            if isClosed { throw .closed }
            var dead: Int32 = 0
            try LMDBCall.check(mdb_reader_check(pointer, &dead), "mdb_reader_check")
            return Int(dead)
        }
    }

    /// Flushes written data to disk (for the deferred durability mode).
    func sync() throws(EventStoreError) {
        try gate.withShared { () throws(EventStoreError) in
            if isClosed { throw .closed }
            try LMDBCall.check(mdb_env_sync(pointer, 1), "mdb_env_sync")
        }
    }

    private static func makeDirectories(_ path: String) throws(EventStoreError) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o755) != 0 && errno != EEXIST {
                let code = errno
                throw .system(operation: "mkdir", path: partial, errno: code, message: String(cString: strerror(code)))
            }
        }
    }

    private static func entries(of path: String) throws(EventStoreError) -> [String] {
        guard let directory = opendir(path) else {
            let code = errno
            throw .system(operation: "opendir", path: path, errno: code, message: String(cString: strerror(code)))
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
