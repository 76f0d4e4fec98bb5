internal import CLMDB
public import CoreMetrics
public import CumulusLog
import Foundation
public import Logging
import Synchronization

/// A handle on the embedded event log: one LMDB environment in a data directory.
///
/// ```swift
/// let log = try LMDBEventStore.open(directory: "/var/lib/cumulus", options: .init(create: true))
/// defer { log.close() }
/// let result = try await log.append([event], to: StreamName("user-42"), expecting: .noStream)
/// for try await event in log.subscribe(after: .start) { … }
/// ```
///
/// Ownership: each ``open(directory:options:logger:metricsFactory:)`` returns a new handle that belongs to
/// its caller. Handles on the same directory in one process share what LMDB requires them to share — one
/// environment, one writer thread — but not their lifetime: ``close()`` ends only this handle (and wakes only
/// its own subscribers); the environment closes with the last handle. Options one environment cannot hold
/// two values of are refused with `EventStoreError.conflictingOptions(path:option:inUse:requested:)`.
///
/// Concurrency: every write goes through the directory's one writer thread, which group-commits whatever is
/// queued; every `async` read runs its short `MDB_NOTLS` read transaction on a reader thread of the store's
/// own while the calling task is suspended, so no blocking storage work runs on Swift's cooperative pool.
/// ``scan(after:maximumCount:_:)`` is synchronous and runs where it is called; from `async` code use
/// ``scanOnReaderThread(after:maximumCount:_:)``. `Sendable` because its state is the thread-safe shared
/// environment, this handle's notifier (a mutex) and an atomic flag.
public final class LMDBEventStore: EventScanning {
    /// How hard a commit works to survive a crash.
    public enum Durability: String, Sendable, CaseIterable {
        /// Every commit is flushed to disk before it returns (data, then the meta page). The default:
        /// an acknowledged append survives a process or machine crash.
        case full
        /// One flush per commit instead of two: a machine crash may undo the last commit(s), never corrupt.
        case noMetaSync
        /// No flush at commit; ``LMDBEventStore/flush()`` or closing flushes. For bulk loads that can be
        /// redone: a process crash loses nothing, a machine crash can lose every commit since the last flush
        /// and may damage the file.
        case deferred
    }

    /// How to open a log.
    public struct Options: Sendable {
        /// Create the directory and the log when they do not exist.
        public var create: Bool
        /// The flush policy; ``Durability/full`` by default.
        public var durability: Durability
        /// The initial memory-map size in bytes (grows by itself when full). The file is sparse, so a
        /// large map costs no disk; 8 GiB by default.
        public var initialMapSize: UInt64
        /// Reader slots shared by all processes using the directory; 510 by default.
        public var maximumReaders: UInt32
        /// Open for reading only (`MDB_RDONLY`): the data file is opened read-only and never written, no writer
        /// thread is started, and appends and checkpoint saves fail with `EventStoreError.readOnly(path:)`.
        /// For queries, which must leave the log as they found it. Cannot be combined with `create`.
        public var readOnly: Bool

        /// Options with the defaults above.
        public init(
            create: Bool = false,
            durability: Durability = .full,
            initialMapSize: UInt64 = 8 << 30,
            maximumReaders: UInt32 = 510,
            readOnly: Bool = false
        ) {
            self.create = create
            self.durability = durability
            self.initialMapSize = initialMapSize
            self.maximumReaders = maximumReaders
            self.readOnly = readOnly
        }
    }

    /// The data directory, as an absolute path.
    public let directory: String
    /// The options this handle was opened with.
    public let options: Options
    /// Where this handle logs (opening, closing, refusals it reports); silent unless given one.
    public let logger: Logger
    let shared: SharedEnvironment
    var environment: Environment { shared.environment }
    /// The writer; nil when the log was opened read-only.
    private var committer: GroupCommitter? { shared.committer }
    private var watcher: ChangeWatcher { shared.watcher }
    /// True when the store was opened with ``Options/readOnly``: nothing can be written through it.
    public var isReadOnly: Bool { options.readOnly }
    private let notifier = CommitNotifier()
    private let isClosed = Atomic<Bool>(false)

    /// A logger that discards everything: the default, so that an embedder sees no output it did not ask for.
    public static let silentLogger = Logger(label: "cumulus.store", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Opens a new handle on the log in `directory`.
    ///
    /// A directory open in this process already is shared: the new handle uses the same environment and
    /// writer, and closing either handle leaves the other working.
    /// - Parameters:
    ///   - directory: the data directory.
    ///   - options: how to open it; `create` may differ between handles, the others may not.
    ///   - logger: where to log; silent by default. The writer of a directory logs to the logger of the
    ///     first handle that opened it.
    ///   - metricsFactory: where the writer reports appends, commit latency, group sizes and the map size;
    ///     the bootstrapped `MetricsSystem` by default (which reports nothing until an embedder bootstraps
    ///     it). Like the logger, the first handle's factory serves the directory.
    /// - Throws: `EventStoreError.logNotFound(path:)` when there is no log and `create` is false,
    ///   `EventStoreError.notACumulusLog(path:reason:)` or `EventStoreError.unsupportedFormat(path:found:supported:)`
    ///   when the directory holds something else, `EventStoreError.conflictingOptions(path:option:inUse:requested:)`
    ///   when this process has it open with other options; the directory is never rewritten then.
    public static func open(
        directory: String,
        options: Options = Options(),
        logger: Logger = LMDBEventStore.silentLogger,
        metricsFactory: (any MetricsFactory)? = nil
    ) throws(EventStoreError) -> LMDBEventStore {
        let path = Self.absolute(directory)
        if options.readOnly && options.create {
            throw .invalidField(field: "options", reason: "a log cannot be created read-only (\(path))")
        }
        do {
            let shared = try SharedEnvironment.acquire(
                path: path, options: options, logger: logger, metricsFactory: metricsFactory ?? MetricsSystem.factory)
            return LMDBEventStore(shared: shared, options: options, logger: logger)
        } catch {
            logger.warning("cannot open the log", metadata: ["error": "\(error.description)"])
            throw error
        }
    }

    private init(shared: SharedEnvironment, options: Options, logger: Logger) {
        directory = shared.path
        self.options = options
        self.logger = logger
        self.shared = shared
        shared.fanOut.add(notifier)
    }

    deinit {
        close()
    }

    /// Closes this handle: wakes its waiting subscribers with `EventStoreError.closed`; later calls on it
    /// fail with `EventStoreError.closed`. Other handles on the directory keep working; when this was the
    /// last one, queued writes finish, the writer stops and the environment closes.
    public func close() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shared.fanOut.remove(notifier)
        notifier.close()
        SharedEnvironment.release(shared)
    }

    /// How many reader slots left behind by dead processes were reclaimed when this store opened.
    ///
    /// LMDB resets the reader table when the first process opens a directory, so this counts only slots
    /// found while other processes had the directory open.
    public var staleReaderSlotsCleared: Int { Int(environment.staleReadersCleared) }

    /// Reclaims reader slots left by processes that died inside a read transaction. The store does this on
    /// open, when the reader table is full, and every 10 seconds from the writer; call it to do it now.
    /// - Returns: how many slots were reclaimed.
    @discardableResult
    public func clearStaleReaders() throws(EventStoreError) -> Int {
        try checkOpen()
        return try environment.clearStaleReaders()
    }

    /// Flushes every commit to disk; needed only with ``Durability/deferred``.
    public func flush() throws(EventStoreError) {
        try checkOpen()
        try environment.sync()
    }

    private func checkOpen() throws(EventStoreError) {
        if isClosed.load(ordering: .acquiring) { throw .closed }
    }

    /// The writer, or `EventStoreError.readOnly(path:)` when the store was opened read-only.
    func writer() throws(EventStoreError) -> GroupCommitter {
        guard let committer else { throw .readOnly(path: directory) }
        return committer
    }

    // MARK: Appending

    /// Appends to several streams atomically; see `EventStore.append(atomically:)`.
    public func append(atomically appends: [StreamAppend]) async throws(EventStoreError) -> [AppendResult] {
        try checkOpen()
        try Self.validate(appends)
        let committer = try writer()
        let result = await withCheckedContinuation { continuation in
            if !committer.submit(.atomic(appends, continuation)) { continuation.resume(returning: .failure(.closed)) }
        }
        return try result.get()
    }

    /// Appends independent atomic units with one result each; see `EventStore.append(units:)`.
    public func append(
        units: [[StreamAppend]]
    ) async throws(EventStoreError)
        -> [Result<[AppendResult], EventStoreError>]
    {
        try checkOpen()
        let items = units.map { unit -> Result<[StreamAppend], EventStoreError> in
            do throws(EventStoreError) {
                try Self.validate(unit)
                return .success(unit)
            } catch {
                return .failure(error)
            }
        }
        let committer = try writer()
        let result = await withCheckedContinuation { continuation in
            if !committer.submit(.units(items, continuation)) {
                continuation.resume(returning: .failure(.closed))
            }
        }
        return try result.get()
    }

    /// Saves a checkpoint; see `EventStore.save(_:)`.
    public func save(_ checkpoint: Checkpoint) async throws(EventStoreError) {
        try checkOpen()
        let length = checkpoint.name.utf8.count
        guard length > 0 && length <= 255 else {
            throw .invalidField(field: "checkpoint name", reason: "must be 1 to 255 bytes, is \(length)")
        }
        let committer = try writer()
        let result = await withCheckedContinuation { continuation in
            if !committer.submit(.checkpoint(checkpoint, continuation)) {
                continuation.resume(returning: .failure(.closed))
            }
        }
        try result.get()
    }

    /// The checks that need no storage: done on the caller's task, before the writer sees the request.
    ///
    /// A stream named twice is refused by the writer (`EventStoreError.duplicateStreamInAppend(_:)`, before
    /// anything else it checks), which numbers the request's streams anyway: hashing every name here as well
    /// cost more than the rest of these checks.
    static func validate(_ appends: [StreamAppend]) throws(EventStoreError) {
        // Ids that increase (time-ordered ids, the usual case) are distinct without a set.
        var ids: Set<EventID>? = idsIncrease(appends) ? nil : Set(minimumCapacity: 16)
        for index in appends.indices {
            guard !appends[index].events.isEmpty else { throw .emptyAppend(appends[index].stream) }
            for item in appends[index].events.indices {
                try RecordCodec.validate(appends[index].events[item])
                let id = appends[index].events[item].id
                if let inserted = ids?.insert(id).inserted, !inserted { throw .duplicateEventInAppend(id: id) }
            }
        }
    }

    private static func idsIncrease(_ appends: [StreamAppend]) -> Bool {
        var previous: EventID.OrderKey?
        for index in appends.indices {
            for item in appends[index].events.indices {
                let key = appends[index].events[item].id.orderKey
                if let previous, key <= previous { return false }
                previous = key
            }
        }
        return true
    }

    // MARK: Reading

    /// Reads one stream from a version; see `EventStore.read(stream:from:maximumCount:)`.
    ///
    /// It finds the stream's head, walks the per-record back-links down to `version`, then decodes forward.
    public func read(
        stream: StreamName,
        from version: StreamVersion,
        maximumCount: Int
    ) async throws(EventStoreError) -> [RecordedEvent] {
        return try await readOnReaderThread { (txn) throws(EventStoreError) -> [RecordedEvent] in
            guard let head = try StreamHead.read(stream, in: txn) else { return [] }
            let from = max(version.rawValue, 1)
            guard from <= head.version, maximumCount > 0 else { return [] }
            let last = min(head.version, from + UInt64(min(maximumCount, Int(head.version - from + 1))) - 1)
            var positions: [UInt64] = []
            positions.reserveCapacity(Int(last - from + 1))
            var position = head.lastPosition
            var expected = head.version
            while expected >= from {
                guard let raw = try txn.record(at: position) else {
                    throw .integrityViolation(
                        position: GlobalPosition(position),
                        reason: "stream '\(stream)' links to a missing event"
                    )
                }
                guard RecordCodec.streamVersion(raw).rawValue == expected else {
                    throw .integrityViolation(
                        position: GlobalPosition(position),
                        reason: "stream '\(stream)' expected version \(expected) here"
                    )
                }
                if expected <= last { positions.append(position) }
                position = RecordCodec.previousInStream(raw).rawValue
                expected -= 1
            }
            var events: [RecordedEvent] = []
            events.reserveCapacity(positions.count)
            for position in positions.reversed() {
                guard let raw = try txn.record(at: position) else {
                    throw .integrityViolation(position: GlobalPosition(position), reason: "event vanished")
                }
                let event = try RecordCodec.decode(raw, position: GlobalPosition(position))
                guard event.stream == stream else {
                    throw .integrityViolation(
                        position: GlobalPosition(position),
                        reason: "stream '\(stream)' links to an event of '\(event.stream)'"
                    )
                }
                events.append(event)
            }
            return events
        }
    }

    /// The current version of a stream.
    public func version(of stream: StreamName) async throws(EventStoreError) -> StreamVersion {
        return try await readOnReaderThread { (txn) throws(EventStoreError) -> StreamVersion in
            StreamVersion(try StreamHead.read(stream, in: txn)?.version ?? 0)
        }
    }

    /// Reads the log after a position; see `EventStore.readAll(after:maximumCount:)`.
    public func readAll(
        after position: GlobalPosition, maximumCount: Int
    ) async throws(EventStoreError)
        -> [RecordedEvent]
    {
        try checkOpen()
        return try await ReaderThreads.shared.run { () throws(EventStoreError) -> [RecordedEvent] in
            var events: [RecordedEvent] = []
            try self.scan(after: position, maximumCount: maximumCount) { (event) throws(EventStoreError) in
                events.append(event)
            }
            return events
        }
    }

    /// Like ``scan(after:maximumCount:_:)``, for `async` callers: the read transaction and `body` run on a
    /// reader thread of the store's own while the calling task is suspended, so a long scan does not occupy a
    /// thread of Swift's cooperative pool. `body` never runs at the same time as the caller.
    @discardableResult
    public func scanOnReaderThread(
        after position: GlobalPosition,
        maximumCount: Int,
        _ body: (RecordedEvent) throws(EventStoreError) -> Void
    ) async throws(EventStoreError) -> GlobalPosition {
        try checkOpen()
        return try await ReaderThreads.shared.run(consuming: { () throws(EventStoreError) -> GlobalPosition in
            try self.scan(after: position, maximumCount: maximumCount, body)
        })
    }

    /// Like ``scanOnReaderThread(after:maximumCount:_:)``, without copying the payloads: `body` gets each event
    /// with an empty `payload` and the payload's bytes as they lie in the memory map, valid only during the call
    /// (see `EventScanning.scanInPlaceOnReaderThread(after:maximumCount:_:)`).
    @discardableResult
    public func scanInPlaceOnReaderThread(
        after position: GlobalPosition,
        maximumCount: Int,
        _ body: (RecordedEvent, UnsafeRawBufferPointer) throws(EventStoreError) -> Void
    ) async throws(EventStoreError) -> GlobalPosition {
        try checkOpen()
        return try await ReaderThreads.shared.run(consuming: { () throws(EventStoreError) -> GlobalPosition in
            try self.scanRecords(after: position, maximumCount: maximumCount) {
                (decoder, raw, current) throws(EventStoreError) in
                let (event, payload) = try decoder.decodeEnvelope(raw, position: current)
                try body(event, payload)
            }
        })
    }

    /// Calls `body` with each event after `position`, in order, in one read transaction; for rebuilds and
    /// other synchronous consumers that must not hold a whole batch in memory.
    ///
    /// At most `maximumCount` events are read; call again from the last position for more. Keep the count
    /// moderate (tens of thousands): the read transaction pins the snapshot while it runs.
    /// - Returns: the position of the last event passed to `body`, or `position` when there was none.
    @discardableResult
    public func scan(
        after position: GlobalPosition,
        maximumCount: Int,
        _ body: (RecordedEvent) throws(EventStoreError) -> Void
    ) throws(EventStoreError) -> GlobalPosition {
        try scanRecords(after: position, maximumCount: maximumCount) {
            (decoder, raw, current) throws(EventStoreError) in
            try body(try decoder.decode(raw, position: current))
        }
    }

    /// Calls `body` with each record after `position` (its bytes and position), in order, in one read
    /// transaction, with one decoder for the scan; checks that the positions do not jump.
    private func scanRecords(
        after position: GlobalPosition,
        maximumCount: Int,
        _ body: (inout RecordDecoder, UnsafeRawBufferPointer, GlobalPosition) throws(EventStoreError) -> Void
    ) throws(EventStoreError) -> GlobalPosition {
        try checkOpen()
        guard maximumCount > 0 else { return position }
        return try environment.read { (txn) throws(EventStoreError) -> GlobalPosition in
            var count = 0
            var last = position
            var decoder = RecordDecoder()
            try txn.forEachRecord(after: position.rawValue) { (key, raw) throws(EventStoreError) -> Bool in
                let current = GlobalPosition(key)
                guard key == last.rawValue + 1 else {
                    throw .integrityViolation(position: current, reason: "positions jump from \(last) to \(key)")
                }
                try body(&decoder, raw, current)
                last = current
                count += 1
                return count < maximumCount
            }
            return last
        }
    }

    /// The last position; see `EventStore.lastPosition()`.
    public func lastPosition() async throws(EventStoreError) -> GlobalPosition {
        try checkOpen()
        return GlobalPosition(try await readOnReaderThread { (txn) throws(EventStoreError) in try txn.lastPosition() })
    }

    /// The stored chain link of the event at `position`; see `EventStore.chainLink(at:)`.
    public func chainLink(at position: GlobalPosition) async throws(EventStoreError) -> String? {
        try checkOpen()
        guard position.rawValue > 0 else { return nil }
        return try await readOnReaderThread { (txn) throws(EventStoreError) -> String? in
            guard let raw = try txn.record(at: position.rawValue) else { return nil }
            guard raw.count > 32 else {
                throw .integrityViolation(position: position, reason: "the record is too short to hold its chain link")
            }
            return RecordCodec.storedLink(raw).description
        }
    }

    /// The event with this id; see `EventStore.event(id:)`.
    public func event(id: EventID) async throws(EventStoreError) -> RecordedEvent? {
        return try await readOnReaderThread { (txn) throws(EventStoreError) -> RecordedEvent? in
            guard let position = try txn.position(ofEventID: id) else { return nil }
            guard let raw = try txn.record(at: position) else {
                throw .integrityViolation(position: GlobalPosition(position), reason: "indexed event is missing")
            }
            return try RecordCodec.decode(raw, position: GlobalPosition(position))
        }
    }

    /// The positions of the events with these ids, in one read transaction; see
    /// `EventScanning.positions(ofEventIDs:)`.
    public func positions(ofEventIDs ids: [EventID]) async throws(EventStoreError) -> [GlobalPosition?] {
        try checkOpen()
        guard !ids.isEmpty else { return [] }
        return try await readOnReaderThread { (txn) throws(EventStoreError) -> [GlobalPosition?] in
            var positions: [GlobalPosition?] = []
            positions.reserveCapacity(ids.count)
            for id in ids {
                let position = try txn.position(ofEventID: id)
                positions.append(position.map { GlobalPosition($0) })
            }
            return positions
        }
    }

    /// Waits for an event after `position`, from this process or another; see `EventStore.waitForEvents(after:)`.
    public func waitForEvents(after position: GlobalPosition) async throws(EventStoreError) {
        try checkOpen()
        watcher.start()
        while true {
            let last = try await lastPosition()
            notifier.publish(last)
            if last > position { return }
            try await notifier.wait(after: position)
        }
    }

    /// The checkpoint saved under `name`; see `EventStore.checkpoint(named:)`.
    public func checkpoint(named name: String) async throws(EventStoreError) -> Checkpoint? {
        return try await readOnReaderThread { (txn) throws(EventStoreError) -> Checkpoint? in
            let key = Array(name.utf8)
            guard
                let raw = try withBytes(
                    key,
                    { (raw) throws(EventStoreError) in
                        try txn.get(txn.databases.checkpoints, key: raw)
                    })
            else { return nil }
            return try CheckpointCodec.decode(name: name, raw)
        }
    }

    /// Counts and sizes; see `EventStore.statistics()`.
    public func statistics() async throws(EventStoreError) -> LogStatistics {
        let dataFile = directory + "/data.mdb"
        let mapSize = environment.mapSize
        return try await readOnReaderThread { (txn) throws(EventStoreError) -> LogStatistics in
            var info = stat()
            let fileSize: UInt64? = stat(dataFile, &info) == 0 ? UInt64(info.st_size) : nil
            return LogStatistics(
                eventCount: try txn.count(txn.databases.events),
                streamCount: try txn.count(txn.databases.streams),
                lastPosition: GlobalPosition(try txn.lastPosition()),
                fileSize: fileSize,
                mapSize: mapSize,
                checkpointCount: try txn.count(txn.databases.checkpoints)
            )
        }
    }

    /// Runs `body` in a read transaction on a reader thread (see ``ReaderThreads``) while the caller waits
    /// suspended, off Swift's cooperative pool.
    func readOnReaderThread<R: Sendable>(
        _ body: @escaping @Sendable (borrowing Transaction) throws(EventStoreError) -> R
    ) async throws(EventStoreError) -> R {
        try checkOpen()
        let environment = self.environment
        return try await ReaderThreads.shared.run { () throws(EventStoreError) -> R in try environment.read(body) }
    }

    /// The absolute path with symbolic links resolved, so two spellings of one directory share one environment
    /// (two environments on one file in one process would break LMDB's locks).
    private static func absolute(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        var text = url.path
        while text.count > 1 && text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
