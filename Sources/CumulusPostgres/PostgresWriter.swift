import CumulusLog
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// This process's writer: it takes every append waiting in the process and commits them in one PostgreSQL
/// transaction (group commit), which first locks the log's one `head` row.
///
/// Why positions stay gap-free across processes (docs/postgres.md): a writer assigns positions only while it
/// holds the `head` row lock (`SELECT … FOR UPDATE`), from the last position stored in that row, and the lock
/// is released by its commit. The next writer can read the head only after that commit is visible, so
/// positions are committed in increasing order and a reader that sees position N+1 sees N.
///
/// `Sendable` because its state sits in one `Mutex`; the drain task is the only one running transactions.
final class PostgresWriter: Sendable {
    enum Request: Sendable {
        case atomic([StreamAppend], CheckedContinuation<Result<[AppendResult], EventStoreError>, Never>)
        case units(
            [Result<[StreamAppend], EventStoreError>],
            CheckedContinuation<Result<[Result<[AppendResult], EventStoreError>], EventStoreError>, Never>
        )
        /// Events copied from another log, stored with their positions and recorded times.
        case copy([RecordedEvent], CheckedContinuation<Result<Void, EventStoreError>, Never>)

        var eventCount: Int {
            switch self {
            case .atomic(let appends, _): return appends.reduce(0) { $0 + $1.events.count }
            case .units(let items, _):
                return items.reduce(0) { total, item in
                    total + ((try? item.get())?.reduce(0) { $0 + $1.events.count } ?? 0)
                }
            case .copy(let events, _): return events.count
            }
        }

        /// Whether the request's events have distinct ids, checked before any is staged: an atomic append
        /// (`PostgresEventStore.validate`) and a copy (`GroupTransaction.copy`) do; the units of a `units` request
        /// may repeat an id between them.
        var checksItsOwnIDs: Bool {
            if case .units = self { return false }
            return true
        }

        /// Whether the events `group[index]` stages are remembered by id, for the requests after it in the group:
        /// always but for the last request when it checks its own ids (``checksItsOwnIDs``) — nothing after it
        /// could repeat them.
        static func remembersStaged(at index: Int, of group: [Request]) -> Bool {
            index < group.count - 1 || !group[index].checksItsOwnIDs
        }

        func fail(_ error: EventStoreError) {
            switch self {
            case .atomic(_, let continuation): continuation.resume(returning: .failure(error))
            case .units(_, let continuation): continuation.resume(returning: .failure(error))
            case .copy(_, let continuation): continuation.resume(returning: .failure(error))
            }
        }
    }

    private enum Outcome: Sendable {
        case atomic(Result<[AppendResult], EventStoreError>)
        case units([Result<[AppendResult], EventStoreError>])
        case copy(Result<Void, EventStoreError>)
    }

    private struct State {
        var pending: [Request] = []
        var draining = false
        var closed = false
    }

    /// A group stops growing at this many events (the first request is always taken whole).
    static let maximumGroupEvents = 16_384

    /// A stream's version and the position of its last event.
    typealias StreamHead = (version: UInt64, lastPosition: UInt64)

    private let client: PostgresClient
    private let location: PostgresLocation
    private let notifier: CommitNotifier
    private let logger: Logger
    private let state = Mutex(State())
    private let headCache = HeadCache()

    init(client: PostgresClient, location: PostgresLocation, notifier: CommitNotifier, logger: Logger) {
        self.client = client
        self.location = location
        self.notifier = notifier
        self.logger = logger
    }

    /// Queues a request and starts the drain task if none runs; false once closed.
    func submit(_ request: Request) -> Bool {
        let start: Bool? = state.withLock { state in
            if state.closed { return nil }
            state.pending.append(request)
            if state.draining { return false }
            state.draining = true
            return true
        }
        guard let start else { return false }
        if start { Task { await drain() } }
        return true
    }

    /// Refuses new requests and fails the queued ones with `EventStoreError.closed`.
    func close() {
        let pending: [Request] = state.withLock { state in
            state.closed = true
            defer { state.pending.removeAll() }
            return state.pending
        }
        for request in pending { request.fail(.closed) }
    }

    private func drain() async {
        while true {
            let group: [Request] = state.withLock { state in
                var group: [Request] = []
                var events = 0
                while let request = state.pending.first,
                    group.isEmpty || events + request.eventCount <= Self.maximumGroupEvents
                {
                    events += request.eventCount
                    group.append(state.pending.removeFirst())
                }
                if group.isEmpty { state.draining = false }
                return group
            }
            if group.isEmpty { return }
            await commit(group)
        }
    }

    private func commit(_ group: [Request]) async {
        let location = self.location
        let logger = self.logger
        let cache = headCache
        let result: Result<([Outcome], UInt64), EventStoreError>
        do {
            let value = try await client.withConnection { connection -> ([Outcome], UInt64) in
                try await connection.query("BEGIN", logger: logger)
                do {
                    // The rows go to the server in chunks while the next ones are decided, hashed and encoded: a
                    // child task streams them with one `COPY` as this task stages them.
                    let (chunks, sink) = AsyncStream.makeStream(of: ByteBuffer.self)
                    var batch = try await GroupTransaction(
                        connection, location, logger: logger, group: group, cache: cache, sink: sink)
                    let outcomes = try await withThrowingTaskGroup(of: Void.self) { tasks in
                        tasks.addTask {
                            try await EventColumns.copy(chunks, into: location, on: connection, logger: logger)
                        }
                        var outcomes: [Outcome] = []
                        for (index, request) in group.enumerated() {
                            batch.remembersStaged = Request.remembersStaged(at: index, of: group)
                            switch request {
                            case .atomic(let appends, _): outcomes.append(.atomic(batch.apply(appends)))
                            case .units(let items, _):
                                outcomes.append(.units(items.map { $0.flatMap { batch.apply($0) } }))
                            case .copy(let events, _): outcomes.append(.copy(batch.copy(events)))
                            }
                        }
                        batch.endRows()
                        try await tasks.waitForAll()
                        return outcomes
                    }
                    try await batch.finish(connection)
                    try await connection.query("COMMIT", logger: logger)
                    batch.committed(to: cache)
                    return (outcomes, batch.lastPosition)
                } catch {
                    if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
                    throw error
                }
            }
            result = .success(value)
        } catch {
            headCache.drop()
            result = .failure(PostgresFailure.storeError(error, "append", at: location))
        }
        switch result {
        case .success(let (outcomes, lastPosition)):
            notifier.publish(GlobalPosition(lastPosition))
            for (request, outcome) in zip(group, outcomes) {
                switch (request, outcome) {
                case (.atomic(_, let continuation), .atomic(let result)): continuation.resume(returning: result)
                case (.units(_, let continuation), .units(let results)):
                    continuation.resume(returning: .success(results))
                case (.copy(_, let continuation), .copy(let result)): continuation.resume(returning: result)
                default: request.fail(.invalidField(field: "append", reason: "outcome out of order"))
                }
            }
        case .failure(let error):
            for request in group { request.fail(error) }
        }
    }
}

/// One group's transaction: what it read under the head lock, what it decided, and the rows it writes.
///
/// Reads happen once for the whole group (the head, the stored events among the group's ids, the heads of
/// the group's streams that the writer's `HeadCache` cannot vouch for); every request is then validated against
/// them and against earlier requests of the group in memory, exactly as the LMDB writer does, and all new rows
/// go out in one `COPY`.
private struct GroupTransaction {
    let location: PostgresLocation
    let logger: Logger
    private(set) var lastPosition: UInt64
    private var link: ChainLink
    private var heads: [StreamName: PostgresWriter.StreamHead] = [:]
    /// Whether ``heads`` holds every stream of the log (``HeadCache``): a stream it does not hold has no event.
    private var headsAreComplete = false
    /// Events stored before this transaction, and those this transaction writes, by id.
    private var byID: [EventID: RecordedEvent] = [:]
    /// Whether staged events go into ``byID``: false for the group's last request when it checks its own ids.
    var remembersStaged = true
    private var rows = EventColumns()
    /// Where staged rows go once ``chunkBytes`` of them are waiting (to the `COPY` task), whole rows only.
    private let sink: AsyncStream<ByteBuffer>.Continuation
    /// The size of the chunks of rows handed to the `COPY` as they are staged.
    static let chunkBytes = 256 * 1024
    private let recordedAt = Timestamp.now
    private var buffer: [UInt8] = []

    init(
        _ connection: PostgresConnection,
        _ location: PostgresLocation,
        logger: Logger,
        group: [PostgresWriter.Request],
        cache: HeadCache,
        sink: AsyncStream<ByteBuffer>.Continuation
    ) async throws {
        self.location = location
        self.logger = logger
        self.sink = sink
        // The lock that orders every writer of every process: held until COMMIT.
        let head = try await connection.query(
            "SELECT last_position, link FROM \(unescaped: location.table("head")) FOR UPDATE", logger: logger
        ).collect()
        guard let row = head.first else {
            throw EventStoreError.integrityViolation(position: nil, reason: "the head row of the log is missing")
        }
        let (last, linkBuffer) = try row.decode((Int64, ByteBuffer).self)
        guard let linkBytes = linkBuffer.getBytes(at: linkBuffer.readerIndex, length: 32) else {
            throw EventStoreError.integrityViolation(position: nil, reason: "the head's chain link is not 32 bytes")
        }
        lastPosition = UInt64(clamping: last)
        link = ChainLink(bytes: linkBytes)
        // The cached heads are taken, not copied: the writer commits one group at a time, and the heads go back
        // to the cache, updated, when this transaction commits (``committed(to:)``). Only the streams the cache
        // does not know are read from the index below.
        (heads, headsAreComplete) = cache.take(at: lastPosition, link: link)
        // A stream the heads do not hold is looked up, unless they hold every stream of the log: then it is new.
        func unknown(_ stream: StreamName) -> Bool { !headsAreComplete && heads[stream] == nil }
        var missing: Set<StreamName> = []
        var ids: [UUID] = []
        for request in group {
            let appends: [[StreamAppend]]
            switch request {
            case .atomic(let unit, _): appends = [unit]
            case .units(let items, _): appends = items.compactMap { try? $0.get() }
            case .copy(let events, _):
                for event in events {
                    ids.append(event.id.uuid)
                    if unknown(event.stream) { missing.insert(event.stream) }
                }
                appends = []
            }
            for unit in appends {
                for append in unit {
                    if unknown(append.stream) { missing.insert(append.stream) }
                    for event in append.events { ids.append(event.id.uuid) }
                }
            }
        }
        if group.indices.contains(where: { PostgresWriter.Request.remembersStaged(at: $0, of: group) }) {
            byID.reserveCapacity(ids.count)
        }
        if !ids.isEmpty {
            // Time-ordered ids above the greatest stored one cannot be stored already: only the others are looked
            // up (PostgreSQL orders uuids by their bytes, as `EventID` does).
            let greatest = try await connection.query(
                "SELECT id FROM \(unescaped: location.table("events")) ORDER BY id DESC LIMIT 1", logger: logger
            ).collect()
            if let top = try greatest.first?.decode(UUID?.self) {
                let bound = EventID(top).orderKey
                ids = ids.filter { EventID($0).orderKey <= bound }
            } else {
                ids = []
            }
        }
        if !ids.isEmpty {
            let stored = try await connection.query(
                """
                SELECT \(unescaped: EventRow.columns) FROM \(unescaped: location.table("events"))
                WHERE id = ANY(\(ids)::uuid[])
                """,
                logger: logger
            ).collect()
            for row in stored {
                let event = try EventRow.decode(row).event
                byID[event.id] = event
            }
        }
        if !missing.isEmpty {
            heads.reserveCapacity(heads.count + missing.count)
            let names = missing.map(\.rawValue)
            // Each stream's head is its event with the greatest version: one backward step into the
            // `(stream_key, version)` index per stream, skipping any row of another stream with the same key.
            let found = try await connection.query(
                """
                SELECT s.name, e.version, e.position FROM unnest(\(names)::text[]) AS s(name)
                CROSS JOIN LATERAL (
                    SELECT version, position FROM \(unescaped: location.table("events"))
                    WHERE stream_key = hashtextextended(s.name, 0) AND stream = s.name
                    ORDER BY version DESC LIMIT 1
                ) AS e
                """,
                logger: logger
            ).collect()
            for row in found {
                let (name, version, position) = try row.decode((String, Int64, Int64).self)
                heads[StreamName(unchecked: name)] = (UInt64(clamping: version), UInt64(clamping: position))
            }
        }
    }

    /// Validates and stages one atomic request of one or more streams; a refusal stages nothing.
    mutating func apply(_ appends: [StreamAppend]) -> Result<[AppendResult], EventStoreError> {
        var seen: Set<StreamName> = []
        seen.reserveCapacity(appends.count)
        for append in appends where !seen.insert(append.stream).inserted {
            return .failure(.duplicateStreamInAppend(append.stream))
        }
        // Idempotency: events stored already, by an earlier transaction or earlier in this one.
        var stored: [RecordedEvent] = []
        var new: EventID?
        for append in appends {
            for event in append.events {
                if let original = byID[event.id] {
                    guard original.hasSameContent(as: event, in: append.stream) else {
                        return .failure(.eventIDConflict(id: event.id, storedAt: original.position))
                    }
                    stored.append(original)
                } else if new == nil {
                    new = event.id
                }
            }
        }
        if let first = stored.first {
            guard new == nil else { return .failure(.partiallyStored(id: first.id, storedAt: first.position)) }
            var results: [AppendResult] = []
            var index = 0
            for append in appends {
                let originals = stored[index..<index + append.events.count]
                index += append.events.count
                let last = originals.max { $0.position < $1.position }
                results.append(
                    AppendResult(
                        stream: append.stream,
                        firstPosition: originals.map(\.position).min() ?? .start,
                        lastPosition: last?.position ?? .start,
                        streamVersion: last?.streamVersion ?? .empty,
                        wasAlreadyStored: true
                    ))
            }
            return .success(results)
        }
        // Optimistic concurrency.
        for append in appends {
            let actual = StreamVersion(heads[append.stream]?.version ?? 0)
            guard append.expectedVersion.isSatisfied(by: actual) else {
                return .failure(
                    .wrongExpectedVersion(stream: append.stream, expected: append.expectedVersion, actual: actual))
            }
        }
        var results: [AppendResult] = []
        for append in appends {
            var head = heads[append.stream] ?? (0, 0)
            let first = lastPosition + 1
            for event in append.events {
                let position = GlobalPosition(lastPosition + 1)
                let version = StreamVersion(head.version + 1)
                let previous = GlobalPosition(head.lastPosition)
                let recorded = RecordedEvent(
                    id: event.id, stream: append.stream, streamVersion: version, position: position, type: event.type,
                    schemaVersion: event.schemaVersion, occurredAt: event.occurredAt, recordedAt: recordedAt,
                    actor: event.actor, correlationID: event.correlationID, causationID: event.causationID,
                    payload: event.payload)
                stage(recorded, proposed: event, previousInStream: previous)
                head = (version.rawValue, position.rawValue)
            }
            heads[append.stream] = head
            results.append(
                AppendResult(
                    stream: append.stream, firstPosition: GlobalPosition(first),
                    lastPosition: GlobalPosition(lastPosition), streamVersion: StreamVersion(head.version),
                    wasAlreadyStored: false))
        }
        return .success(results)
    }

    /// Stages events copied from another log at their own positions and recorded times; the first must follow
    /// this log's last one, and each must continue its stream. All are checked before any is staged, since staged
    /// rows may already be on their way to the server.
    mutating func copy(_ events: [RecordedEvent]) -> Result<Void, EventStoreError> {
        var position = lastPosition
        var versions: [StreamName: UInt64] = [:]
        var ids: Set<EventID> = []
        for event in events {
            let version = versions[event.stream] ?? heads[event.stream]?.version ?? 0
            guard event.position.rawValue == position + 1, event.streamVersion.rawValue == version + 1,
                byID[event.id] == nil, ids.insert(event.id).inserted
            else {
                return .failure(
                    .integrityViolation(
                        position: event.position,
                        reason: "the copied event does not continue the target log at position \(position + 1) "
                            + "(stream '\(event.stream)' at version \(version))"))
            }
            position += 1
            versions[event.stream] = version + 1
        }
        for event in events {
            let head = heads[event.stream] ?? (0, 0)
            let proposed = ProposedEvent(
                id: event.id, type: event.type, schemaVersion: event.schemaVersion, occurredAt: event.occurredAt,
                actor: event.actor, correlationID: event.correlationID, causationID: event.causationID,
                payload: event.payload)
            stage(event, proposed: proposed, previousInStream: GlobalPosition(head.lastPosition))
            heads[event.stream] = (event.streamVersion.rawValue, event.position.rawValue)
        }
        return .success(())
    }

    private mutating func stage(_ event: RecordedEvent, proposed: ProposedEvent, previousInStream: GlobalPosition) {
        link = RecordCodec.encode(
            proposed,
            stream: event.stream,
            version: event.streamVersion,
            previousInStream: previousInStream,
            recordedAt: event.recordedAt,
            position: event.position,
            previousLink: link,
            into: &buffer
        )
        rows.append(event, previousInStream: previousInStream, link: link)
        if rows.pendingBytes >= Self.chunkBytes { sink.yield(rows.take()) }
        if remembersStaged { byID[event.id] = event }
        lastPosition = event.position.rawValue
    }

    /// Gives the heads this transaction read or wrote (with those it took from the cache) back to the writer's
    /// cache, true at its last position and link; called once its `COMMIT` succeeded.
    mutating func committed(to cache: HeadCache) {
        var heads: [StreamName: PostgresWriter.StreamHead] = [:]
        swap(&heads, &self.heads)
        cache.store(heads, complete: headsAreComplete, at: lastPosition, link: link)
    }

    /// Hands the rows still waiting to the `COPY` task and ends its stream of chunks; called once every request of
    /// the group is staged.
    mutating func endRows() {
        if rows.pendingBytes > 0 { sink.yield(rows.take()) }
        sink.finish()
    }

    /// Writes the new head, once the rows are in, and announces the new last position (PostgreSQL delivers the
    /// notification at commit). The streams' heads are the rows themselves: nothing else to update.
    func finish(_ connection: PostgresConnection) async throws {
        guard !rows.isEmpty else { return }
        let last = Int64(lastPosition)
        let linkBytes = ByteBuffer(bytes: link.bytes)
        try await connection.query(
            """
            WITH updated AS (
                UPDATE \(unescaped: location.table("head")) SET last_position = \(last), link = \(linkBytes)
                RETURNING last_position
            )
            SELECT pg_notify(\(location.channel), (SELECT last_position FROM updated)::text)
            """,
            logger: logger
        )
    }
}

/// The stream heads this process's writer committed or read, and the end of the log (last position and chain
/// link) at which they are true.
///
/// Every writer of every process changes the log only under the `head` row lock, and every change moves that
/// row's position and link. So when a transaction finds the row at exactly the position and link this writer
/// committed last, nobody has written since, and the cached heads are still the streams' heads: they need not be
/// read again. A stream not in the cache is read from the events as before. Any other row — another process
/// wrote, or this writer's last commit failed or ended with an unknown outcome — and the cache is emptied first.
/// Bounded: a commit that leaves it past `maximumStreams` empties it.
///
/// *Complete* heads: when a transaction finds the log empty (last position 0), every stream's head is known —
/// none has an event — and as long as the cache stays valid from then on (this writer made every commit since, and
/// the cache was never emptied), it holds the head of every stream of the log: a stream it does not hold has no
/// event, and needs no lookup. That is the case of a bulk import or a `cumulus copy` into a new log. Any other row,
/// a failed commit, or the bound, and the cache is no longer complete until the log is empty again (never).
///
/// `Sendable` because its state sits in a `Mutex`; only the writer's drain task uses it, one transaction at a
/// time: the transaction takes the dictionary out (``take(at:link:)``), changes it in place, and gives it back
/// after its `COMMIT` (``store(_:complete:at:link:)``) — never copied, and empty while a transaction holds it.
final class HeadCache: Sendable {
    private struct State {
        var lastPosition: UInt64 = 0
        var link: ChainLink?
        var heads: [StreamName: PostgresWriter.StreamHead] = [:]
        /// Whether `heads` holds every stream of the log.
        var complete = false
    }

    /// The most streams held (about 100 bytes each).
    static let maximumStreams = 262_144

    private let state = Mutex(State())

    /// Takes the cached heads out of the cache — it is empty afterwards — when the cache holds at `lastPosition`
    /// and `link` (the head row read under its lock); an empty dictionary otherwise. The writer commits one group
    /// at a time and gives the heads back with ``store(_:complete:at:link:)`` after its `COMMIT`: taking them rather than
    /// copying the group's streams out and merging them back saves hashing every stream name twice per commit.
    /// `complete` tells whether they are the heads of every stream of the log: always when the log is empty.
    func take(
        at lastPosition: UInt64, link: ChainLink
    ) -> (heads: [StreamName: PostgresWriter.StreamHead], complete: Bool) {
        state.withLock { state in
            var heads: [StreamName: PostgresWriter.StreamHead] = [:]
            var complete = lastPosition == 0
            if state.link == link && state.lastPosition == lastPosition {
                swap(&heads, &state.heads)
                complete = complete || state.complete
            }
            state = State()
            return (heads, complete)
        }
    }

    /// Holds `heads` — what a committed transaction took, read and wrote, `complete` when they were complete
    /// before it — and the log's end after it; beyond ``maximumStreams`` streams the cache starts again empty, and
    /// is no longer complete.
    func store(
        _ heads: consuming [StreamName: PostgresWriter.StreamHead], complete: Bool, at lastPosition: UInt64,
        link: ChainLink
    ) {
        let bounded = heads.count <= Self.maximumStreams
        let heads = bounded ? heads : [:]
        state.withLock { state in
            state.heads = heads
            state.complete = complete && bounded
            state.lastPosition = lastPosition
            state.link = link
        }
    }

    /// Forgets everything: the last commit failed, or its outcome is unknown.
    func drop() {
        state.withLock { $0 = State() }
    }
}
