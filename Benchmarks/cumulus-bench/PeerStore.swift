import CSQLite
import CumulusLog
import Foundation

/// The peer: SQLite through its C API, as an engineer would write the event store on it.
///
/// Each append is `INSERT INTO events(stream, version, payload) SELECT ?1, coalesce(max(version), 0) + 1, ?2
/// FROM events WHERE stream = ?1` — the next version comes from the `UNIQUE(stream, version)` index, the
/// same lookup Cumulus does in its stream heads. One event per commit uses autocommit; a batch is
/// `BEGIN IMMEDIATE` … `COMMIT`. Concurrent tasks (P2) share one connection under one lock: SQLite has one
/// writer and no group commit. The peer stores only position, stream, version and payload — no envelope
/// fields, no event-id index, no hash chain.
///
/// `@unchecked Sendable`: the connection and its statements are used only under `lock`.
final class PeerStore: ContenderStore, @unchecked Sendable {
    private let path: String
    private let connection: SQLiteConnection
    private let insert: SQLiteConnection.Statement
    private let begin: SQLiteConnection.Statement
    private let commit: SQLiteConnection.Statement
    private let workload: PresenceWorkload
    private let lock = NSLock()
    private let clock = ContinuousClock()

    init(directory: String, workload: PresenceWorkload) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/events.sqlite"
        self.workload = workload
        connection = try SQLiteConnection(path: path)
        insert = try connection.prepare(
            "INSERT INTO events(stream, version, payload) SELECT ?1, coalesce(max(version), 0) + 1, ?2 "
                + "FROM events WHERE stream = ?1")
        begin = try connection.prepare("BEGIN IMMEDIATE")
        commit = try connection.prepare("COMMIT")
    }

    func close() {}

    /// Inserts one event with the prepared statement; the caller holds `lock`.
    private func insertLocked(_ event: GeneratedEvent) throws {
        defer { insert.reset() }
        try workload.streamKeys[event.streamIndex].withUnsafeBytes { stream in
            try event.proposed.payload.withUnsafeBytes { payload in
                sqlite3_bind_text(
                    insert.handle, 1, stream.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(stream.count), nil)
                sqlite3_bind_blob(insert.handle, 2, payload.baseAddress, Int32(payload.count), nil)
                guard try !insert.step() else { throw BenchError("insert returned a row") }
            }
        }
    }

    /// One event in its own (autocommit) transaction, durable when it returns.
    private func appendOne(_ event: GeneratedEvent) throws {
        try lock.withLock { try insertLocked(event) }
    }

    func appendOnePerCommit(_ events: [GeneratedEvent]) async throws -> RoundReport {
        var latencies: [Double] = []
        latencies.reserveCapacity(events.count)
        let began = clock.now
        for event in events {
            let start = clock.now
            try appendOne(event)
            latencies.append(microseconds(clock.now - start))
        }
        return RoundReport(events: events.count, seconds: seconds(clock.now - began), latencies: latencies)
    }

    func appendConcurrently(_ events: [GeneratedEvent], tasks: Int) async throws -> RoundReport {
        let began = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for task in 0..<tasks {
                let share = stride(from: task, to: events.count, by: tasks).map { events[$0] }
                group.addTask {
                    let clock = ContinuousClock()
                    var latencies: [Double] = []
                    for event in share {
                        let start = clock.now
                        try self.appendOne(event)
                        latencies.append(microseconds(clock.now - start))
                        await Task.yield()
                    }
                    return latencies
                }
            }
            var all: [Double] = []
            for try await latencies in group { all += latencies }
            return all
        }
        return RoundReport(events: events.count, seconds: seconds(clock.now - began), latencies: latencies)
    }

    func importBatch(_ events: [GeneratedEvent]) async throws -> RoundReport {
        let began = clock.now
        try lock.withLock {
            _ = try begin.step()
            begin.reset()
            do {
                for event in events { try insertLocked(event) }
                _ = try commit.step()
                commit.reset()
            } catch {
                commit.reset()
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
        return RoundReport(events: events.count, seconds: seconds(clock.now - began), latencies: [])
    }

    func scanAll() throws -> RoundReport {
        let began = clock.now
        lock.lock()
        defer { lock.unlock() }
        let select = try connection.prepare("SELECT position, stream, version, payload FROM events ORDER BY position")
        var count = 0
        var sum: UInt64 = 0
        while try select.step() {
            sum &+= UInt64(bitPattern: sqlite3_column_int64(select.handle, 0))
            if sqlite3_column_text(select.handle, 1) != nil { sum &+= UInt64(sqlite3_column_bytes(select.handle, 1)) }
            sum &+= UInt64(bitPattern: sqlite3_column_int64(select.handle, 2))
            if sqlite3_column_blob(select.handle, 3) != nil { sum &+= UInt64(sqlite3_column_bytes(select.handle, 3)) }
            count += 1
        }
        guard sum != 1 else { throw BenchError("impossible checksum") }  // keeps the sum alive
        return RoundReport(events: count, seconds: seconds(clock.now - began), latencies: [])
    }

    func appendUntilVisible(_ events: [GeneratedEvent]) async throws -> RoundReport {
        let reader = try SQLiteConnection(path: path)
        let select = try reader.prepare("SELECT position, stream, version, payload FROM events WHERE position > ?1")
        let last = try lastPosition()
        let handoff = VisibilityHandoff(after: last)
        let readerBox = ReaderBox(connection: reader, select: select)
        let subscriber = Thread {
            handoff.follow { from, to in
                let select = readerBox.select
                defer { select.reset() }
                sqlite3_bind_int64(select.handle, 1, Int64(from - 1))
                var newest: Int64 = 0
                while try select.step() {
                    newest = sqlite3_column_int64(select.handle, 0)
                    _ = sqlite3_column_blob(select.handle, 3)
                }
                guard newest >= Int64(to) else { throw BenchError("subscriber missed rows: \(newest) < \(to)") }
            }
        }
        subscriber.start()
        defer { handoff.stop() }
        var latencies: [Double] = []
        var position = last
        let began = clock.now
        for event in events {
            let start = clock.now
            try appendOne(event)
            position += 1
            let seen = try handoff.publishAndWait(position)
            latencies.append(microseconds(seen - start))
        }
        return RoundReport(events: events.count, seconds: seconds(clock.now - began), latencies: latencies)
    }

    private func lastPosition() throws -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        let select = try connection.prepare("SELECT coalesce(max(position), 0) FROM events")
        guard try select.step() else { return 0 }
        return UInt64(sqlite3_column_int64(select.handle, 0))
    }

    func readBack() async throws -> Tally {
        try lock.withLock { try readBackLocked() }
    }

    private func readBackLocked() throws -> Tally {
        let select = try connection.prepare("SELECT stream, payload FROM events ORDER BY position")
        var tally = Tally()
        while try select.step() {
            let stream = UnsafeRawBufferPointer(
                start: sqlite3_column_text(select.handle, 0), count: Int(sqlite3_column_bytes(select.handle, 0)))
            let payload = UnsafeRawBufferPointer(
                start: sqlite3_column_blob(select.handle, 1), count: Int(sqlite3_column_bytes(select.handle, 1)))
            tally.add(stream: stream, payload: payload)
        }
        return tally
    }
}

/// The P7 subscriber's own connection, handed to its thread.
///
/// `@unchecked Sendable`: only the subscriber thread uses it once handed over.
private final class ReaderBox: @unchecked Sendable {
    let connection: SQLiteConnection
    let select: SQLiteConnection.Statement

    init(connection: SQLiteConnection, select: SQLiteConnection.Statement) {
        self.connection = connection
        self.select = select
    }
}
