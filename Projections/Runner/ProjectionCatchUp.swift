import CumulusDomain
public import CumulusLog

/// Brings a ``ProjectionSet`` up to date from a log: restore the saved checkpoints (a projection whose code
/// version changed starts again from position 0), read the rest of the log in bounded batches, and save
/// new checkpoints.
///
/// Memory is the projections' state plus one batch of events, whatever the log's length.
///
/// ```swift
/// var set = ProjectionSet.standard()
/// let report = try await ProjectionCatchUp.run(&set, from: store)
/// try await ProjectionCatchUp.save(set, to: store)
/// ```
public enum ProjectionCatchUp {
    /// What a catch-up did.
    public struct Report: Hashable, Sendable {
        /// Projections restored from a checkpoint, and the position they resumed after.
        public var restored: [String: GlobalPosition] = [:]
        /// Projections rebuilt from position 0 (no checkpoint, a code-version change, or asked for).
        public var rebuilt: [String] = []
        /// Events read from the log and applied.
        public var eventsApplied: UInt64 = 0
        /// The last position the set includes.
        public var position = GlobalPosition.start
    }

    /// Why a catch-up failed.
    public enum Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// The log failed.
        case storage(EventStoreError)
        /// A checkpoint or an event could not be read.
        case state(ProjectionStateError)

        /// What went wrong.
        public var description: String {
            switch self {
            case .storage(let error): error.description
            case .state(let error): error.description
            }
        }
    }

    /// Catches `set` up with `store`.
    /// - Parameters:
    ///   - set: the projections; their names select the checkpoints.
    ///   - store: the log.
    ///   - asOf: build the views as of this point instead of the end of the log; checkpoints past it are ignored.
    ///   - validAt: fold only the events that happened (`occurredAt`) at or before this instant: what was true
    ///     then, by everything the log holds (as of `asOf`). Checkpoints are not used (they hold every event).
    ///   - rebuilding: names of projections to rebuild from position 0 even if a checkpoint exists.
    ///   - batchSize: events read per batch.
    ///   - progress: called after each batch with (events applied, events to apply in all).
    public static func run(
        _ set: inout ProjectionSet,
        from store: any EventStore,
        asOf: AsOf? = nil,
        validAt: Timestamp? = nil,
        rebuilding: Set<String> = [],
        batchSize: Int = 16_384,
        progress: ((UInt64, UInt64) -> Void)? = nil
    ) async throws(Failure) -> Report {
        var report = Report()
        for projection in set.projections {
            let name = projection.name
            guard !rebuilding.contains(name), validAt == nil,
                let checkpoint = try await storage({ () throws(EventStoreError) in
                    try await store.checkpoint(named: name)
                })
            else {
                report.rebuilt.append(name)
                continue
            }
            if let asOf, try await !includes(asOf, checkpoint.position, store) {
                report.rebuilt.append(name)
                continue
            }
            do {
                switch try set.restore(checkpoint) {
                case .restored(let position): report.restored[name] = position
                case .rebuildRequired: report.rebuilt.append(name)
                }
            } catch {
                throw .state(error)
            }
        }
        let end = try await storage({ () throws(EventStoreError) in try await store.lastPosition() })
        var position = set.resumePosition
        let start = position
        let total = end.rawValue - min(end.rawValue, start.rawValue)
        var stop = false
        var failure: ProjectionStateError?
        var applied: UInt64 = 0
        var pending: [DecodedEvent] = []
        pending.reserveCapacity(ProjectionSet.batchSize)
        func flush() {
            set.apply(batch: pending)
            applied += UInt64(pending.count)
            pending.removeAll(keepingCapacity: true)
        }
        // Decodes one event into the pending batch; false once the as-of point is passed (positions only grow).
        func consume(_ event: RecordedEvent) -> Bool {
            guard !stop else { return false }  // after a failure or past the as-of point nothing more is applied
            if let asOf, !asOf.includes(event) {
                if case .position = asOf { stop = true }
                return !stop
            }
            if let validAt, event.occurredAt > validAt { return true }
            do throws(ProjectionStateError) {
                pending.append(try DecodedEvent(decoding: event))
            } catch {
                failure = error
                stop = true
                return false
            }
            if pending.count == ProjectionSet.batchSize { flush() }
            return true
        }
        while position < end && !stop {
            let before = position
            if let scanning = store as? any EventScanning {
                // The fast path: events go straight from the read transaction into the projections.
                position = try storageSync({ () throws(EventStoreError) in
                    try scanning.scan(after: position, maximumCount: batchSize) { (event) throws(EventStoreError) in
                        _ = consume(event)
                    }
                })
            } else {
                let batch = try await storage({ () throws(EventStoreError) in
                    try await store.readAll(after: position, maximumCount: batchSize)
                })
                for event in batch where consume(event) {}
                position = batch.last?.position ?? position
            }
            flush()
            if let failure { throw .state(failure) }
            // Late events that landed before a user's in-memory history horizon: rebuild that user from its stream.
            for user in set.usersNeedingHistory {
                let stream = try await storage({ () throws(EventStoreError) in
                    try await store.read(stream: StreamName(unchecked: AggregateStream.user(user).rawValue))
                })
                do {
                    let known = stream.filter { event in
                        (asOf?.includes(event) ?? true) && (validAt.map { event.occurredAt <= $0 } ?? true)
                    }
                    try set.rebuildHistory(of: user, from: known)
                } catch {
                    throw .state(error)
                }
            }
            if position == before { break }
            progress?(min(position.rawValue - start.rawValue, total), total)
        }
        report.eventsApplied = applied
        report.position = set.position
        return report
    }

    /// Saves one checkpoint per projection of `set`.
    public static func save(_ set: ProjectionSet, to store: any EventStore) async throws(Failure) {
        for checkpoint in set.checkpoints() {
            try await storage({ () throws(EventStoreError) in try await store.save(checkpoint) })
        }
    }

    private static func includes(
        _ asOf: AsOf, _ position: GlobalPosition, _ store: any EventStore
    ) async throws(Failure)
        -> Bool
    {
        switch asOf {
        case .position(let last): return position <= last
        case .recordedAt:
            guard position > .start else { return true }
            let events = try await storage({ () throws(EventStoreError) in
                try await store.readAll(after: GlobalPosition(position.rawValue - 1), maximumCount: 1)
            })
            return events.first.map { asOf.includes($0) } ?? false
        }
    }

    private static func storage<T>(_ body: () async throws(EventStoreError) -> T) async throws(Failure) -> T {
        do { return try await body() } catch { throw .storage(error) }
    }

    private static func storageSync<T>(_ body: () throws(EventStoreError) -> T) throws(Failure) -> T {
        do { return try body() } catch { throw .storage(error) }
    }
}
