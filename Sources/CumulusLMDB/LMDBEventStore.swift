internal import CLMDB
public import CumulusLog
import Foundation
import Synchronization

/// The embedded event log: one LMDB environment in a data directory.
///
/// ```swift
/// let log = try LMDBEventStore.open(directory: "/var/lib/cumulus", options: .init(create: true))
/// let result = try await log.append([event], to: StreamName("user-42"), expecting: .noStream)
/// for try await event in log.subscribe(after: .start) { … }
/// ```
///
/// Concurrency: every write goes through one writer thread that group-commits whatever is queued;
/// reads run on the caller's task in short `MDB_NOTLS` read transactions that never cross an `await`.
/// `Sendable` because its state is the thread-safe environment, the committer's locked queue and the
/// notifier's mutex. Opening the same directory twice in one process returns the same store (LMDB allows
/// one environment per file per process).
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

        /// Options with the defaults above.
        public init(
            create: Bool = false,
            durability: Durability = .full,
            initialMapSize: UInt64 = 8 << 30,
            maximumReaders: UInt32 = 510
        ) {
            self.create = create
            self.durability = durability
            self.initialMapSize = initialMapSize
            self.maximumReaders = maximumReaders
        }
    }

    /// The data directory.
    public let directory: String
    let environment: Environment
    let committer: GroupCommitter
    private let notifier = CommitNotifier()
    private let watcher: ChangeWatcher
    private let isClosed = Atomic<Bool>(false)

    private static let openStores = Mutex<[String: WeakStore]>([:])

    private struct WeakStore {
        weak var store: LMDBEventStore?
    }

    /// Opens the log in `directory` (or the store already open on it in this process).
    /// - Throws: ``EventStoreError/logNotFound(path:)`` when there is no log and `create` is false,
    ///   ``EventStoreError/notACumulusLog(path:reason:)`` or ``EventStoreError/unsupportedFormat(path:found:supported:)``
    ///   when the directory holds something else; the directory is never rewritten then.
    public static func open(directory: String, options: Options = Options()) throws(EventStoreError) -> LMDBEventStore {
        let path = Self.absolute(directory)
        return try openStores.withLock { (stores) throws(EventStoreError) -> LMDBEventStore in
            if let existing = stores[path]?.store, !existing.isClosed.load(ordering: .acquiring) { return existing }
            let store = try LMDBEventStore(path: path, options: options)
            stores[path] = WeakStore(store: store)
            return store
        }
    }

    private init(path: String, options: Options) throws(EventStoreError) {
        directory = path
        environment = try Environment(path: path, create: options.create, options: options)
        committer = GroupCommitter(environment: environment, notifier: notifier)
        let environment = self.environment
        watcher = ChangeWatcher(dataFile: path + "/data.mdb", notifier: notifier) {
            try? GlobalPosition(environment.read { (txn) throws(EventStoreError) in try txn.lastPosition() })
        }
        if let last = try? environment.read({ (txn) throws(EventStoreError) in try txn.lastPosition() }) {
            notifier.publish(GlobalPosition(last))
        }
    }

    deinit {
        close()
    }

    /// Finishes queued writes, wakes waiting subscribers with ``EventStoreError/closed`` and stops the
    /// writer. Later calls fail with ``EventStoreError/closed``.
    public func close() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        committer.stop()
        watcher.stop()
        notifier.close()
        try? environment.sync()
        let path = directory
        Self.openStores.withLock { stores in
            if stores[path]?.store == nil || stores[path]?.store === self { stores[path] = nil }
        }
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
        try environment.sync()
    }

    private func checkOpen() throws(EventStoreError) {
        if isClosed.load(ordering: .acquiring) { throw .closed }
    }

    // MARK: Appending

    /// Appends to several streams atomically; see ``EventStore/append(atomically:)``.
    public func append(atomically appends: [StreamAppend]) async throws(EventStoreError) -> [AppendResult] {
        try checkOpen()
        try Self.validate(appends)
        let committer = self.committer
        let result = await withCheckedContinuation { continuation in
            if !committer.submit(.atomic(appends, continuation)) { continuation.resume(returning: .failure(.closed)) }
        }
        return try result.get()
    }

    /// Appends independent atomic units with one result each; see ``EventStore/append(units:)``.
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
        let committer = self.committer
        let result = await withCheckedContinuation { continuation in
            if !committer.submit(.units(items, continuation)) {
                continuation.resume(returning: .failure(.closed))
            }
        }
        return try result.get()
    }

    /// Saves a checkpoint; see ``EventStore/save(_:)``.
    public func save(_ checkpoint: Checkpoint) async throws(EventStoreError) {
        try checkOpen()
        let length = checkpoint.name.utf8.count
        guard length > 0 && length <= 255 else {
            throw .invalidField(field: "checkpoint name", reason: "must be 1 to 255 bytes, is \(length)")
        }
        let committer = self.committer
        let result = await withCheckedContinuation { continuation in
            if !committer.submit(.checkpoint(checkpoint, continuation)) {
                continuation.resume(returning: .failure(.closed))
            }
        }
        try result.get()
    }

    /// The checks that need no storage: done on the caller's task, before the writer sees the request.
    ///
    /// A stream named twice is refused by the writer (``EventStoreError/duplicateStreamInAppend(_:)``, before
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

    /// Reads one stream from a version; see ``EventStore/read(stream:from:maximumCount:)``.
    ///
    /// It finds the stream's head, walks the per-record back-links down to `version`, then decodes forward.
    public func read(
        stream: StreamName,
        from version: StreamVersion,
        maximumCount: Int
    ) async throws(EventStoreError) -> [RecordedEvent] {
        try checkOpen()
        return try environment.read { (txn) throws(EventStoreError) -> [RecordedEvent] in
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
        try checkOpen()
        return try environment.read { (txn) throws(EventStoreError) -> StreamVersion in
            StreamVersion(try StreamHead.read(stream, in: txn)?.version ?? 0)
        }
    }

    /// Reads the log after a position; see ``EventStore/readAll(after:maximumCount:)``.
    public func readAll(
        after position: GlobalPosition, maximumCount: Int
    ) async throws(EventStoreError)
        -> [RecordedEvent]
    {
        try checkOpen()
        var events: [RecordedEvent] = []
        try scan(after: position, maximumCount: maximumCount) { (event) throws(EventStoreError) in events.append(event)
        }
        return events
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
                try body(try decoder.decode(raw, position: current))
                last = current
                count += 1
                return count < maximumCount
            }
            return last
        }
    }

    /// The last position; see ``EventStore/lastPosition()``.
    public func lastPosition() async throws(EventStoreError) -> GlobalPosition {
        try checkOpen()
        return GlobalPosition(try environment.read { (txn) throws(EventStoreError) in try txn.lastPosition() })
    }

    /// The event with this id; see ``EventStore/event(id:)``.
    public func event(id: EventID) async throws(EventStoreError) -> RecordedEvent? {
        try checkOpen()
        return try environment.read { (txn) throws(EventStoreError) -> RecordedEvent? in
            guard let position = try txn.position(ofEventID: id) else { return nil }
            guard let raw = try txn.record(at: position) else {
                throw .integrityViolation(position: GlobalPosition(position), reason: "indexed event is missing")
            }
            return try RecordCodec.decode(raw, position: GlobalPosition(position))
        }
    }

    /// Waits for an event after `position`, from this process or another; see ``EventStore/waitForEvents(after:)``.
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

    /// The checkpoint saved under `name`; see ``EventStore/checkpoint(named:)``.
    public func checkpoint(named name: String) async throws(EventStoreError) -> Checkpoint? {
        try checkOpen()
        return try environment.read { (txn) throws(EventStoreError) -> Checkpoint? in
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

    /// Counts and sizes; see ``EventStore/statistics()``.
    public func statistics() async throws(EventStoreError) -> LogStatistics {
        try checkOpen()
        var info = stat()
        let fileSize: UInt64? = stat(directory + "/data.mdb", &info) == 0 ? UInt64(info.st_size) : nil
        let mapSize = environment.mapSize
        return try environment.read { (txn) throws(EventStoreError) -> LogStatistics in
            LogStatistics(
                eventCount: try txn.count(txn.databases.events),
                streamCount: try txn.count(txn.databases.streams),
                lastPosition: GlobalPosition(try txn.lastPosition()),
                fileSize: fileSize,
                mapSize: mapSize,
                checkpointCount: try txn.count(txn.databases.checkpoints)
            )
        }
    }

    private static func absolute(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var text = url.path
        while text.count > 1 && text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
