public import CumulusLog
import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization

/// The event log on PostgreSQL: several processes, on several machines, share one log.
///
/// ```swift
/// let location = try PostgresLocation(url: "postgres://cumulus:secret@db:5432/cumulus?schema=cumulus")
/// let log = try await PostgresEventStore.open(location, options: .init(create: true))
/// let result = try await log.append([event], to: StreamName("user-42"), expecting: .noStream)
/// ```
///
/// Records, chain links, expected versions and idempotency are exactly those of `LMDBEventStore`; positions
/// stay gap-free across processes because every writer assigns them under the lock of the log's one head row
/// (docs/postgres.md). Commits are announced with `NOTIFY`, so ``waitForEvents(after:)`` wakes for another
/// process's appends as for this one's.
///
/// Concurrency: appends go to this process's writer, which group-commits whatever is queued in one
/// transaction; reads run on pooled connections. `Sendable` because its state is the thread-safe client, the
/// writer's mutex, the notifier's mutex and atomics.
public final class PostgresEventStore: EventStore {
    /// How to open a log.
    public struct Options: Sendable {
        /// Create the schema and its tables when they do not exist.
        public var create: Bool
        /// The most connections this store opens (one more is used for `LISTEN`).
        public var maximumConnections: Int

        /// Options: no creation, 4 connections (appends need one: the writer group-commits).
        public init(create: Bool = false, maximumConnections: Int = 4) {
            self.create = create
            self.maximumConnections = maximumConnections
        }
    }

    /// Where the log lives.
    public let location: PostgresLocation
    let client: PostgresClient
    let logger: Logger
    /// The TLS settings of every connection, made once at open.
    let tls: PostgresTLS
    private let runner: Task<Void, Never>
    private let writer: PostgresWriter
    private let notifier: CommitNotifier
    private let listener = Mutex<Task<Void, Never>?>(nil)
    private let listening = ListenerConnection()
    private let isClosed = Atomic<Bool>(false)

    /// Connects, checks (or creates) the log's schema, and returns the store.
    /// - Throws: `EventStoreError.storage(operation:code:message:)` with the server's reason when the server
    ///   cannot be reached, refuses the login or a privilege; `EventStoreError.logNotFound(path:)` when the
    ///   schema holds no log and `create` is false; `EventStoreError.unsupportedFormat(path:found:supported:)`
    ///   for a log of another schema version; `EventStoreError.notACumulusLog(path:reason:)` for a schema
    ///   holding other tables. Nothing is created then.
    public static func open(
        _ location: PostgresLocation,
        options: Options = Options()
    ) async throws(EventStoreError) -> PostgresEventStore {
        let logger = Logger(label: "cumulus.postgres") { _ in SwiftLogNoOpLogHandler() }
        let tls = try await PostgresTLS.make(location)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: connectionConfiguration(location, tls), id: 0, logger: logger)
        } catch {
            throw PostgresFailure.storeError(error, "connect", at: location)
        }
        do {
            try await PostgresSchema.prepare(connection, location, create: options.create, logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
        let store = PostgresEventStore(location: location, tls: tls, options: options, logger: logger)
        store.notifier.publish(try await store.lastPosition())
        return store
    }

    private init(location: PostgresLocation, tls: PostgresTLS, options: Options, logger: Logger) {
        self.location = location
        self.logger = logger
        self.tls = tls
        var configuration: PostgresClient.Configuration
        if let directory = location.socketDirectory {
            configuration = PostgresClient.Configuration(
                unixSocketPath: "\(directory)/.s.PGSQL.\(location.port)", username: location.user,
                password: location.password, database: location.database)
        } else {
            configuration = PostgresClient.Configuration(
                host: location.host, port: location.port, username: location.user, password: location.password,
                database: location.database, tls: tls.client)
        }
        configuration.options.maximumConnections = max(1, options.maximumConnections)
        configuration.options.minimumConnections = 0
        configuration.options.keepAliveBehavior = nil
        // The store's statements are short lookups and writes by index. PostgreSQL's JIT compiler starts when a
        // plan's estimated cost passes `jit_above_cost`; the stream-head lookup of a large group passes it on a young
        // table (no statistics yet) and then spent 70 ms of a bulk import's batch compiling what takes 10 ms to run
        // (docs/postgres.md, "Schema"). Off for this store's sessions only; nothing else on the server changes.
        configuration.options.additionalStartupParameters = [
            ("jit", "off"), ("application_name", location.applicationName),
        ]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        let notifier = CommitNotifier()
        self.notifier = notifier
        writer = PostgresWriter(client: client, location: location, notifier: notifier, logger: logger)
    }

    static func connectionConfiguration(
        _ location: PostgresLocation, _ tls: PostgresTLS
    ) -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let directory = location.socketDirectory {
            configuration = PostgresConnection.Configuration(
                unixSocketPath: "\(directory)/.s.PGSQL.\(location.port)", username: location.user,
                password: location.password, database: location.database)
        } else {
            configuration = PostgresConnection.Configuration(
                host: location.host, port: location.port, username: location.user, password: location.password,
                database: location.database, tls: tls.connection)
        }
        // Shown in `pg_stat_activity`, so that an operator sees which sessions are Cumulus's.
        configuration.options.additionalStartupParameters = [("application_name", location.applicationName)]
        return configuration
    }

    deinit {
        close()
    }

    /// Fails queued appends and waiting subscribers with `EventStoreError.closed` and closes the connections.
    public func close() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        writer.close()
        notifier.close()
        listener.withLock { $0?.cancel() }
        listening.close()
        runner.cancel()
    }

    private func checkOpen() throws(EventStoreError) {
        if isClosed.load(ordering: .acquiring) { throw .closed }
    }

    /// Runs `body` and turns what it throws into an `EventStoreError`.
    func run<T>(_ operation: String, _ body: () async throws -> T) async throws(EventStoreError) -> T {
        try checkOpen()
        do {
            return try await body()
        } catch {
            throw PostgresFailure.storeError(error, operation, at: location)
        }
    }

    // MARK: Appending

    /// Appends to several streams atomically; see `EventStore.append(atomically:)`.
    public func append(atomically appends: [StreamAppend]) async throws(EventStoreError) -> [AppendResult] {
        try checkOpen()
        try Self.validate(appends)
        let writer = self.writer
        let result = await withCheckedContinuation { continuation in
            if !writer.submit(.atomic(appends, continuation)) { continuation.resume(returning: .failure(.closed)) }
        }
        return try result.get()
    }

    /// Appends independent atomic units with one result each; see `EventStore.append(units:)`.
    public func append(
        units: [[StreamAppend]]
    ) async throws(EventStoreError) -> [Result<[AppendResult], EventStoreError>] {
        try checkOpen()
        let items = units.map { unit -> Result<[StreamAppend], EventStoreError> in
            do throws(EventStoreError) {
                try Self.validate(unit)
                return .success(unit)
            } catch {
                return .failure(error)
            }
        }
        let writer = self.writer
        let result = await withCheckedContinuation { continuation in
            if !writer.submit(.units(items, continuation)) { continuation.resume(returning: .failure(.closed)) }
        }
        return try result.get()
    }

    /// Stores events read from another log at their own positions, with their recorded times, so that the chain
    /// comes out identical; for `cumulus copy`. The first event must follow this log's last one.
    /// - Throws: `EventStoreError.integrityViolation(position:reason:)` when an event does not continue the log.
    public func appendCopied(_ events: [RecordedEvent]) async throws(EventStoreError) {
        try checkOpen()
        guard !events.isEmpty else { return }
        let writer = self.writer
        let result = await withCheckedContinuation { continuation in
            if !writer.submit(.copy(events, continuation)) { continuation.resume(returning: .failure(.closed)) }
        }
        try result.get()
    }

    /// The checks that need no storage, as `LMDBEventStore` makes them, plus one of PostgreSQL's: text columns
    /// cannot hold a NUL character.
    static func validate(_ appends: [StreamAppend]) throws(EventStoreError) {
        var ids: Set<EventID> = []
        ids.reserveCapacity(appends.reduce(0) { $0 + $1.events.count })
        for append in appends {
            guard !append.events.isEmpty else { throw .emptyAppend(append.stream) }
            for event in append.events {
                try RecordCodec.validate(event)
                guard !event.type.utf8.contains(0), !event.actor.utf8.contains(0) else {
                    throw .invalidField(
                        field: "type or actor of event \(event.id)", reason: "cannot contain a NUL character")
                }
                guard ids.insert(event.id).inserted else { throw .duplicateEventInAppend(id: event.id) }
            }
        }
    }

    // MARK: Reading

    /// Reads one stream from a version; see `EventStore.read(stream:from:maximumCount:)`.
    public func read(
        stream: StreamName,
        from version: StreamVersion,
        maximumCount: Int
    ) async throws(EventStoreError) -> [RecordedEvent] {
        guard maximumCount > 0 else { return [] }
        let from = Int64(clamping: max(version.rawValue, 1))
        let limit = Int64(min(maximumCount, 1 << 30))
        let (client, location, logger) = (self.client, self.location, self.logger)
        return try await run("read stream '\(stream)'") {
            let rows = try await client.query(
                """
                SELECT \(unescaped: EventRow.columns) FROM \(unescaped: location.table("events"))
                WHERE stream_key = hashtextextended(\(stream.rawValue), 0) AND stream = \(stream.rawValue)
                    AND version >= \(from)
                ORDER BY version LIMIT \(limit)
                """,
                logger: logger
            ).collect()
            var events: [RecordedEvent] = []
            events.reserveCapacity(rows.count)
            var expected = UInt64(from)
            for row in rows {
                let event = try EventRow.decode(row).event
                guard event.streamVersion.rawValue == expected else {
                    throw EventStoreError.integrityViolation(
                        position: event.position, reason: "stream '\(stream)' expected version \(expected) here")
                }
                expected += 1
                events.append(event)
            }
            return events
        }
    }

    /// The current version of a stream.
    public func version(of stream: StreamName) async throws(EventStoreError) -> StreamVersion {
        let (client, location, logger) = (self.client, self.location, self.logger)
        return try await run("read the version of '\(stream)'") {
            let rows = try await client.query(
                """
                SELECT version FROM \(unescaped: location.table("events"))
                WHERE stream_key = hashtextextended(\(stream.rawValue), 0) AND stream = \(stream.rawValue)
                ORDER BY version DESC LIMIT 1
                """,
                logger: logger
            ).collect()
            return StreamVersion(UInt64(clamping: try rows.first?.decode(Int64.self) ?? 0))
        }
    }

    /// Reads the log after a position; see `EventStore.readAll(after:maximumCount:)`.
    ///
    /// Positions are committed in order (see the type's notes), so a gap here is damage, not a writer in flight.
    public func readAll(
        after position: GlobalPosition, maximumCount: Int
    ) async throws(EventStoreError)
        -> [RecordedEvent]
    {
        guard maximumCount > 0 else { return [] }
        let after = Int64(clamping: position.rawValue)
        let limit = Int64(min(maximumCount, 1 << 30))
        let (client, location, logger) = (self.client, self.location, self.logger)
        return try await run("read the log after position \(position)") {
            let rows = try await client.query(
                """
                SELECT \(unescaped: EventRow.columns) FROM \(unescaped: location.table("events"))
                WHERE position > \(after) ORDER BY position LIMIT \(limit)
                """,
                logger: logger
            ).collect()
            var events: [RecordedEvent] = []
            events.reserveCapacity(rows.count)
            var last = position
            for row in rows {
                let event = try EventRow.decode(row).event
                guard event.position == last.next else {
                    throw EventStoreError.integrityViolation(
                        position: last.next, reason: "positions jump from \(last) to \(event.position)")
                }
                last = event.position
                events.append(event)
            }
            return events
        }
    }

    /// The position of the last event.
    public func lastPosition() async throws(EventStoreError) -> GlobalPosition {
        let (client, location, logger) = (self.client, self.location, self.logger)
        return try await run("read the last position") {
            let rows = try await client.query(
                "SELECT last_position FROM \(unescaped: location.table("head"))", logger: logger
            ).collect()
            return GlobalPosition(UInt64(clamping: try rows.first?.decode(Int64.self) ?? 0))
        }
    }

    /// The stored chain link of the event at `position`; see `EventStore.chainLink(at:)`.
    public func chainLink(at position: GlobalPosition) async throws(EventStoreError) -> String? {
        guard position.rawValue > 0, position.rawValue <= UInt64(Int64.max) else { return nil }
        let (client, location, logger) = (self.client, self.location, self.logger)
        return try await run("read the chain link at position \(position)") {
            let rows = try await client.query(
                "SELECT link FROM \(unescaped: location.table("events")) WHERE position = \(Int64(position.rawValue))",
                logger: logger
            ).collect()
            guard let row = rows.first else { return nil }
            let bytes = Array(try row.decode(ByteBuffer.self).readableBytesView)
            guard bytes.count == 32 else {
                throw EventStoreError.integrityViolation(
                    position: position, reason: "the row's chain link has \(bytes.count) bytes, not 32")
            }
            return ChainLink(bytes: bytes).description
        }
    }

    /// The event with this id, or nil.
    public func event(id: EventID) async throws(EventStoreError) -> RecordedEvent? {
        let (client, location, logger) = (self.client, self.location, self.logger)
        return try await run("read event \(id)") {
            let rows = try await client.query(
                """
                SELECT \(unescaped: EventRow.columns) FROM \(unescaped: location.table("events")) WHERE id = \(id.uuid)
                """,
                logger: logger
            ).collect()
            return try rows.first.map { try EventRow.decode($0).event }
        }
    }

    /// Returns once the log holds an event after `position`, appended by this process or any other.
    ///
    /// The first call starts a listener on its own connection (`LISTEN`); it reconnects by itself and, after
    /// each (re)connection, reads the last position so that a commit made while it was away is not missed.
    public func waitForEvents(after position: GlobalPosition) async throws(EventStoreError) {
        try checkOpen()
        startListening()
        while true {
            let last = try await lastPosition()
            notifier.publish(last)
            if last > position { return }
            try await notifier.wait(after: position)
        }
    }

    private func startListening() {
        listener.withLock { task in
            guard task == nil else { return }
            let (location, tls, logger) = (self.location, self.tls, self.logger)
            let (notifier, listening) = (self.notifier, self.listening)
            task = Task {
                while !Task.isCancelled {
                    do {
                        let connection = try await PostgresConnection.connect(
                            configuration: Self.connectionConfiguration(location, tls), id: 1, logger: logger)
                        guard listening.adopt(connection) else {
                            try? await connection.close()
                            return
                        }
                        do {
                            try await connection.listen(on: location.channel) { notifications in
                                // Read the head once listening: a commit made before is not missed.
                                let rows = try await connection.query(
                                    "SELECT last_position FROM \(unescaped: location.table("head"))", logger: logger
                                ).collect()
                                if let last = try rows.first?.decode(Int64.self) {
                                    notifier.publish(GlobalPosition(UInt64(clamping: last)))
                                }
                                for try await notification in notifications {
                                    if let last = UInt64(notification.payload) {
                                        notifier.publish(GlobalPosition(last))
                                    }
                                }
                            }
                        } catch {
                            try? await connection.close()
                            throw error
                        }
                        try? await connection.close()
                    } catch {
                        try? await Task.sleep(for: .milliseconds(200))
                    }
                }
            }
        }
    }

    // MARK: Checkpoints

    /// Saves a checkpoint; see `EventStore.save(_:)`.
    public func save(_ checkpoint: Checkpoint) async throws(EventStoreError) {
        let length = checkpoint.name.utf8.count
        guard length > 0 && length <= 255, !checkpoint.name.utf8.contains(0) else {
            throw .invalidField(field: "checkpoint name", reason: "must be 1 to 255 bytes without NUL, is \(length)")
        }
        let position = Int64(clamping: checkpoint.position.rawValue)
        let state = ByteBuffer(bytes: checkpoint.state)
        let checksum = ByteBuffer(bytes: Self.checksum(checkpoint))
        let (client, location, logger) = (self.client, self.location, self.logger)
        _ = try await run("save checkpoint '\(checkpoint.name)'") {
            try await client.query(
                """
                INSERT INTO \(unescaped: location.table("checkpoints")) (name, position, state, checksum)
                VALUES (\(checkpoint.name), \(position), \(state), \(checksum))
                ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state,
                    checksum = excluded.checksum
                """,
                logger: logger
            )
        }
    }

    /// The checkpoint saved under `name`, or nil.
    public func checkpoint(named name: String) async throws(EventStoreError) -> Checkpoint? {
        let (client, location, logger) = (self.client, self.location, self.logger)
        return try await run("load checkpoint '\(name)'") {
            let rows = try await client.query(
                """
                SELECT name, position, state, checksum FROM \(unescaped: location.table("checkpoints"))
                WHERE name = \(name)
                """,
                logger: logger
            ).collect()
            return try rows.first.map(Self.decodeCheckpoint)
        }
    }

    /// SHA-256 of name ‖ position (8 bytes little-endian) ‖ state, as the LMDB store keeps it.
    static func checksum(_ checkpoint: Checkpoint) -> [UInt8] {
        let position = withUnsafeBytes(of: checkpoint.position.rawValue.littleEndian) { Array($0) }
        return sha256(Array(checkpoint.name.utf8), position, checkpoint.state)
    }

    static func decodeCheckpoint(_ row: PostgresRow) throws -> Checkpoint {
        let (name, position, state, checksum) = try row.decode((String, Int64, ByteBuffer, ByteBuffer).self)
        let checkpoint = Checkpoint(
            name: name, position: GlobalPosition(UInt64(clamping: position)), state: Array(state.readableBytesView))
        guard Array(checksum.readableBytesView) == Self.checksum(checkpoint) else {
            throw EventStoreError.integrityViolation(
                position: nil, reason: "checkpoint '\(name)' does not match its checksum")
        }
        return checkpoint
    }

    // MARK: Statistics

    /// Counts and sizes; `fileSize` is the tables' and indexes' total size on the server.
    ///
    /// The stream count is the number of events at version 1 (no table of streams is kept), a
    /// scan of the events table: this call's cost grows with the log.
    public func statistics() async throws(EventStoreError) -> LogStatistics {
        let (client, location, logger) = (self.client, self.location, self.logger)
        return try await run("read statistics") {
            let rows = try await client.query(
                """
                SELECT (SELECT last_position FROM \(unescaped: location.table("head"))),
                    (SELECT count(*) FROM \(unescaped: location.table("events")) WHERE version = 1),
                    (SELECT count(*) FROM \(unescaped: location.table("checkpoints"))),
                    (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = \(location.schema) AND c.relkind = 'r')
                """,
                logger: logger
            ).collect()
            guard let row = rows.first else {
                throw EventStoreError.integrityViolation(position: nil, reason: "no statistics")
            }
            let (last, streams, checkpoints, size) = try row.decode((Int64, Int64, Int64, Int64).self)
            return LogStatistics(
                eventCount: UInt64(clamping: last), streamCount: UInt64(clamping: streams),
                lastPosition: GlobalPosition(UInt64(clamping: last)), fileSize: UInt64(clamping: size), mapSize: nil,
                checkpointCount: UInt64(clamping: checkpoints))
        }
    }
}

/// The connection the store listens on, so that closing the store ends it (and with it the listening loop).
/// `Sendable`: its state sits in a `Mutex`.
final class ListenerConnection: Sendable {
    private let state = Mutex<(connection: PostgresConnection?, closed: Bool)>((nil, false))

    /// Keeps `connection` as the current one; false when the store is closed already.
    func adopt(_ connection: PostgresConnection) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.connection = connection
            return true
        }
    }

    /// Closes the current connection and refuses later ones.
    func close() {
        let connection = state.withLock { state in
            state.closed = true
            return state.connection
        }
        if let connection { Task { try? await connection.close() } }
    }
}
