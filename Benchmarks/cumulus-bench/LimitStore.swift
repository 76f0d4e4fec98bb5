import CLMDB
import CumulusLog
import Foundation

/// The limit: the same work as Cumulus written straight against CLMDB, with nothing in between.
///
/// Does: stores the very record bytes Cumulus would (encoded with `RecordCodec.encode`, hash chain
/// included, before the clock starts), keyed by 8-byte big-endian position with `MDB_APPEND`; puts each
/// event id into `eventIDs` (`MDB_NOOVERWRITE`); writes each touched stream's head once per transaction, in
/// name order; commits with LMDB's default durable sync (data, then meta page). The log-only variant writes
/// the records alone.
///
/// Does not: read anything back inside the transaction (last position, chain head, stream heads, id
/// lookups for idempotency — it keeps versions in memory), compute the chain link while timed, validate,
/// write the `meta` chain head and transaction stamp, group or hop threads.
///
/// `@unchecked Sendable`: one task drives it; the P7 subscriber thread only reads, in its own transaction.
final class LimitStore: ContenderStore, @unchecked Sendable {
    private struct Prepared {
        let position: UInt64
        let record: [UInt8]
        let id: EventID
        let streamIndex: Int
        let version: UInt64
    }

    private let lmdb: RawLMDB
    private let events: MDB_dbi
    private let streamHeads: MDB_dbi?
    private let eventIDs: MDB_dbi?
    private let workload: PresenceWorkload
    private var versions: [UInt64]
    private var lastPositions: [UInt64]
    private var position: UInt64 = 0
    private var link = ChainLink.genesis
    private var touchedMark: [Int]
    private var transactionCount = 0
    private let clock = ContinuousClock()

    init(directory: String, workload: PresenceWorkload, logOnly: Bool) throws {
        self.workload = workload
        lmdb = try RawLMDB(path: directory, databases: logOnly ? ["events"] : ["events", "streams", "eventIDs"])
        events = try lmdb.handle("events")
        streamHeads = logOnly ? nil : try lmdb.handle("streams")
        eventIDs = logOnly ? nil : try lmdb.handle("eventIDs")
        versions = [UInt64](repeating: 0, count: workload.streams.count)
        lastPositions = [UInt64](repeating: 0, count: workload.streams.count)
        touchedMark = [Int](repeating: -1, count: workload.streams.count)
    }

    func close() {}

    /// Encodes records exactly as Cumulus's writer does (untimed).
    private func prepare(_ generated: [GeneratedEvent]) -> [Prepared] {
        let recordedAt = Timestamp.now
        var buffer: [UInt8] = []
        return generated.map { event in
            position += 1
            versions[event.streamIndex] += 1
            link = RecordCodec.encode(
                event.proposed,
                stream: workload.streams[event.streamIndex],
                version: StreamVersion(versions[event.streamIndex]),
                previousInStream: GlobalPosition(lastPositions[event.streamIndex]),
                recordedAt: recordedAt,
                position: GlobalPosition(position),
                previousLink: link,
                into: &buffer
            )
            lastPositions[event.streamIndex] = position
            return Prepared(
                position: position, record: buffer, id: event.proposed.id, streamIndex: event.streamIndex,
                version: versions[event.streamIndex])
        }
    }

    /// One transaction: the records, their ids, and each touched stream's head once.
    private func commit(_ records: ArraySlice<Prepared>) throws {
        transactionCount += 1
        let mark = transactionCount
        try lmdb.write { txn in
            var touched: [Int] = []
            var heads: [Int: (UInt64, UInt64)] = [:]
            for record in records {
                var key = record.position.bigEndian
                try withUnsafeBytes(of: &key) { keyBytes in
                    try record.record.withUnsafeBytes { value in
                        try RawLMDB.put(txn, events, key: keyBytes, value: value, flags: MDB_APPEND)
                    }
                    if let eventIDs {
                        var id = record.id.uuid.uuid
                        try withUnsafeBytes(of: &id) { idBytes in
                            try RawLMDB.put(txn, eventIDs, key: idBytes, value: keyBytes, flags: MDB_NOOVERWRITE)
                        }
                    }
                }
                if streamHeads != nil {
                    if touchedMark[record.streamIndex] != mark {
                        touchedMark[record.streamIndex] = mark
                        touched.append(record.streamIndex)
                    }
                    heads[record.streamIndex] = (record.version, record.position)
                }
            }
            guard let streamHeads else { return }
            if touched.count > 1 { touched.sort { workload.streamRanks[$0] < workload.streamRanks[$1] } }
            for stream in touched {
                guard let head = heads[stream] else { continue }
                var value = (head.0.littleEndian, head.1.littleEndian)
                try workload.streamKeys[stream].withUnsafeBytes { key in
                    try withUnsafeBytes(of: &value) { try RawLMDB.put(txn, streamHeads, key: key, value: $0) }
                }
            }
        }
    }

    func appendOnePerCommit(_ generated: [GeneratedEvent]) async throws -> RoundReport {
        let records = prepare(generated)
        var latencies: [Double] = []
        latencies.reserveCapacity(records.count)
        var total = Duration.zero
        for index in records.indices {
            let began = clock.now
            try commit(records[index...index])
            let elapsed = clock.now - began
            total += elapsed
            latencies.append(microseconds(elapsed))
        }
        return RoundReport(events: records.count, seconds: seconds(total), latencies: latencies)
    }

    func appendConcurrently(_ events: [GeneratedEvent], tasks: Int) async throws -> RoundReport {
        // LMDB has one writer: the limit for P2 is P1's sequential one-event commits.
        try await appendOnePerCommit(events)
    }

    func importBatch(_ generated: [GeneratedEvent]) async throws -> RoundReport {
        let records = prepare(generated)
        let began = clock.now
        try commit(records[...])
        return RoundReport(events: records.count, seconds: seconds(clock.now - began), latencies: [])
    }

    func scanAll() throws -> RoundReport {
        let began = clock.now
        let (count, sum) = try lmdb.read { txn in
            try Self.minimalScan(txn, events)
        }
        guard sum != 1 else { throw BenchError("impossible checksum") }  // keeps the sum alive
        return RoundReport(events: count, seconds: seconds(clock.now - began), latencies: [])
    }

    /// A cursor walk reading the fixed header fields of each record: position, payload length, stream
    /// version, back-link, occurredAt, recordedAt.
    static func minimalScan(_ txn: OpaquePointer, _ events: MDB_dbi) throws -> (Int, UInt64) {
        var count = 0
        var sum: UInt64 = 0
        try RawLMDB.forEach(txn, events) { key, raw in
            guard raw.count >= RecordCodec.fixedSize else { throw BenchError("record too short") }
            sum &+= UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))
            sum &+= UInt64(raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
            sum &+= raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
            sum &+= raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian
            sum &+= raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self).littleEndian
            sum &+= raw.loadUnaligned(fromByteOffset: 32, as: UInt64.self).littleEndian
            count += 1
        }
        return (count, sum)
    }

    func appendUntilVisible(_ generated: [GeneratedEvent]) async throws -> RoundReport {
        let records = prepare(generated)
        let handoff = VisibilityHandoff(after: records.first.map { $0.position - 1 } ?? position)
        let lmdb = self.lmdb
        let events = self.events
        let subscriber = Thread {
            handoff.follow { from, to in
                // The subscriber reads each new record in its own read transaction, as a projection would.
                try lmdb.read { txn in
                    var key = from.bigEndian
                    var count = 0
                    try withUnsafeMutableBytes(of: &key) { keyBytes in
                        var start = MDB_val(mv_size: 8, mv_data: keyBytes.baseAddress)
                        var data = MDB_val()
                        var cursor: OpaquePointer?
                        try RawLMDB.check(mdb_cursor_open(txn, events, &cursor), "mdb_cursor_open")
                        defer { mdb_cursor_close(cursor) }
                        var code = mdb_cursor_get(cursor, &start, &data, MDB_SET_RANGE)
                        while code == 0 {
                            count += 1
                            code = mdb_cursor_get(cursor, &start, &data, MDB_NEXT)
                        }
                    }
                    guard count >= Int(to - from + 1) else { throw BenchError("subscriber missed events") }
                }
            }
        }
        subscriber.start()
        defer { handoff.stop() }
        var latencies: [Double] = []
        let began = clock.now
        for index in records.indices {
            let start = clock.now
            try commit(records[index...index])
            let seen = try handoff.publishAndWait(records[index].position)
            latencies.append(microseconds(seen - start))
        }
        return RoundReport(events: records.count, seconds: seconds(clock.now - began), latencies: latencies)
    }

    func readBack() async throws -> Tally {
        try lmdb.read { txn in
            var tally = Tally()
            try RawLMDB.forEach(txn, events) { _, raw in
                let (stream, payload) = try Self.streamAndPayload(raw)
                tally.add(stream: stream, payload: payload)
            }
            return tally
        }
    }

    /// The stream name and payload of a stored record, parsed by hand from the documented layout.
    static func streamAndPayload(
        _ raw: UnsafeRawBufferPointer
    ) throws -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer) {
        let flags = raw[1]
        var offset = RecordCodec.fixedSize + (flags & 1 != 0 ? 16 : 0) + (flags & 2 != 0 ? 16 : 0)
        let streamLength = Int(raw[offset])
        let stream = UnsafeRawBufferPointer(rebasing: raw[offset + 1..<offset + 1 + streamLength])
        offset += 1 + streamLength
        offset += 1 + Int(raw[offset])  // type
        offset += 1 + Int(raw[offset])  // actor
        guard offset <= raw.count - RecordCodec.linkSize else { throw BenchError("record fields overrun") }
        return (stream, UnsafeRawBufferPointer(rebasing: raw[offset..<raw.count - RecordCodec.linkSize]))
    }
}

/// Hands "committed up to position p" from a writer to a subscriber thread and "seen at time t" back, with
/// one condition variable: the limit's and the peer's in-process notification for P7.
///
/// `@unchecked Sendable`: every field is guarded by `condition`.
final class VisibilityHandoff: @unchecked Sendable {
    private let condition = NSCondition()
    private var committed: UInt64
    private var seenUpTo: UInt64
    private var seenAt = ContinuousClock.now
    private var stopped = false
    private var failure: (any Error)?

    init(after position: UInt64) {
        committed = position
        seenUpTo = position
    }

    /// The subscriber's loop: waits for commits and calls `read(from, to)` for each new range of positions.
    func follow(_ read: (UInt64, UInt64) throws -> Void) {
        while true {
            condition.lock()
            while committed <= seenUpTo && !stopped { condition.wait() }
            if stopped {
                condition.unlock()
                return
            }
            let from = seenUpTo + 1
            let to = committed
            condition.unlock()
            var error: (any Error)?
            do { try read(from, to) } catch let thrown { error = thrown }
            let now = ContinuousClock.now
            condition.lock()
            if let error { failure = error }
            seenUpTo = to
            seenAt = now
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The writer: announces a commit and returns when the subscriber has read it.
    func publishAndWait(_ position: UInt64) throws -> ContinuousClock.Instant {
        condition.lock()
        defer { condition.unlock() }
        committed = position
        condition.broadcast()
        while seenUpTo < position && failure == nil { condition.wait() }
        if let failure { throw failure }
        return seenAt
    }

    /// Ends the subscriber's loop.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
