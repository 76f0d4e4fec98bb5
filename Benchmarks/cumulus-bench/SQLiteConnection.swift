import CSQLite
import Foundation

/// One SQLite connection through the C API, with the peer's schema and settings.
///
/// Not thread-safe on its own: ``PeerStore`` serialises every use under one lock, the way an application
/// shares one writer connection.
final class SQLiteConnection {
    let handle: OpaquePointer

    /// Opens (creating) the database at `path`: WAL, `synchronous=FULL` (every commit fsyncs the WAL), a
    /// 64 MiB page cache, and the schema `events(position INTEGER PRIMARY KEY, stream TEXT, version INTEGER,
    /// payload BLOB, UNIQUE(stream, version))`.
    init(path: String) throws {
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let handle else {
            if let handle { sqlite3_close(handle) }
            throw BenchError("sqlite3_open_v2(\(path)): code \(code)")
        }
        self.handle = handle
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=FULL")
        try execute("PRAGMA cache_size=-65536")
        try execute(
            """
            CREATE TABLE IF NOT EXISTS events(
                position INTEGER PRIMARY KEY, stream TEXT NOT NULL, version INTEGER NOT NULL, payload BLOB NOT NULL,
                UNIQUE(stream, version))
            """)
    }

    deinit { sqlite3_close(handle) }

    /// Runs SQL with no result rows.
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        guard code == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "code \(code)"
            sqlite3_free(message)
            throw BenchError("\(sql): \(text)")
        }
    }

    /// Prepares a statement that lives as long as the connection.
    func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw BenchError("prepare \(sql): \(errorMessage)") }
        return Statement(handle: statement, connection: self)
    }

    /// The connection's last error message.
    var errorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    /// A prepared statement, finalized with its owner.
    final class Statement {
        let handle: OpaquePointer
        private let connection: SQLiteConnection

        init(handle: OpaquePointer, connection: SQLiteConnection) {
            self.handle = handle
            self.connection = connection
        }

        deinit { sqlite3_finalize(handle) }

        /// Steps once: true while a row is available, false when done.
        func step() throws -> Bool {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: return true
            case SQLITE_DONE: return false
            case let code: throw BenchError("sqlite3_step: code \(code): \(connection.errorMessage)")
            }
        }

        /// Resets for the next use and clears the bindings.
        func reset() {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
    }
}
