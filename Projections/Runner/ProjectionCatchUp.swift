public import CoreMetrics
public import CumulusDomain
public import CumulusLog
public import Logging

/// Brings a ``ProjectionSet`` up to date from a log: restore the saved checkpoints (a projection whose code
/// version changed, or whose checkpoint is damaged, starts again from position 0 and is listed in
/// ``Report/discarded`` with the reason), read the rest of the log in bounded batches, and save new checkpoints
/// (``save(_:to:)``, a separate step: a query catches up in memory and saves nothing).
///
/// Memory is the projections' state plus one batch of events, whatever the log's length. With a backend that
/// scans on threads of its own (the LMDB log) the batches are read and applied off Swift's cooperative pool.
///
/// It logs to the `logger` it is given (silent by default): which projections are rebuilt and why, and how far
/// it got; and reports through swift-metrics (the bootstrapped `MetricsSystem` unless a factory is given):
/// `cumulus_projection_lag_events` (a gauge per projection: events between its checkpoint and the end of
/// the log when the catch-up starts, then what is left when it ends), `cumulus_projection_rebuilds` (per
/// projection and reason), `cumulus_projection_applied_events`, `cumulus_projection_catch_up_duration` and
/// `cumulus_projection_catch_up_rate` (events applied per second of one catch-up).
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
        /// Checkpoints that were there but could not be used (another code version, damaged bytes), by projection
        /// name, with the reason: those projections are in ``rebuilt``. Worth a log line each.
        public var discarded: [String: String] = [:]
        /// Events read from the log and applied.
        public var eventsApplied: UInt64 = 0
        /// The last position the set includes.
        public var position = GlobalPosition.start
        /// Events read in this catch-up that the domain could not decode and the projections passed over.
        public var skipped = SkippedEvents()
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
    ///   - batchSize: events read per read transaction.
    ///   - logger: where to log; silent by default.
    ///   - metricsFactory: where to report; the bootstrapped `MetricsSystem` by default.
    ///   - progress: called after each batch with (events applied, events to apply in all).
    public static func run(
        _ set: inout ProjectionSet,
        from store: any EventStore,
        asOf: AsOf? = nil,
        validAt: Timestamp? = nil,
        rebuilding: Set<String> = [],
        batchSize: Int = 65_536,
        logger: Logger = ProjectionCatchUp.silentLogger,
        metricsFactory: (any MetricsFactory)? = nil,
        progress: ((UInt64, UInt64) -> Void)? = nil
    ) async throws(Failure) -> Report {
        let factory = metricsFactory ?? MetricsSystem.factory
        let started = ContinuousClock.now
        var report = Report()
        func rebuild(_ name: String, because reason: String) {
            report.rebuilt.append(name)
            Counter(
                label: "cumulus_projection_rebuilds", dimensions: [("projection", name), ("reason", reason)],
                factory: factory
            )
            .increment()
            logger.info(
                "rebuilding a projection from position 0", metadata: ["projection": "\(name)", "reason": "\(reason)"])
        }
        for projection in set.projections {
            let name = projection.name
            let stored: Checkpoint?
            do {
                stored = rebuilding.contains(name) || validAt != nil ? nil : try await store.checkpoint(named: name)
            } catch {
                // The store found the checkpoint's bytes damaged (its own checksum): rebuild, don't fail.
                guard case .integrityViolation = error else { throw .storage(error) }
                report.discarded[name] = "checkpoint damaged: \(error.description)"
                stored = nil
            }
            guard let checkpoint = stored else {
                rebuild(
                    name,
                    because: rebuilding.contains(name)
                        ? "asked"
                        : validAt != nil
                            ? "valid-at query" : report.discarded[name] == nil ? "no checkpoint" : "checkpoint damaged")
                continue
            }
            if let asOf, try await !includes(asOf, checkpoint.position, store) {
                rebuild(name, because: "checkpoint after the as-of point")
                continue
            }
            do throws(ProjectionStateError) {
                switch try set.restore(checkpoint) {
                case .restored(let position): report.restored[name] = position
                case .rebuildRequired(let stored, let current):
                    rebuild(name, because: "checkpoint of code version \(stored), this code is version \(current)")
                    report.discarded[name] =
                        "checkpoint written by code version \(stored), this build is version \(current)"
                }
            } catch {
                // Damaged bytes are a cache miss, not a failure: the projection (left empty) is folded from 0.
                rebuild(name, because: "checkpoint damaged")
                report.discarded[name] = "checkpoint damaged: \(error.description)"
            }
        }
        let end = try await storage({ () throws(EventStoreError) in try await store.lastPosition() })
        func recordLag(at position: (String) -> GlobalPosition) {
            for projection in set.projections {
                let behind = end.rawValue - min(end.rawValue, position(projection.name).rawValue)
                Gauge(
                    label: "cumulus_projection_lag_events", dimensions: [("projection", projection.name)],
                    factory: factory
                )
                .record(Int64(clamping: behind))
            }
        }
        recordLag { report.restored[$0] ?? .start }
        var position = set.resumePosition
        let start = position
        let total = end.rawValue - min(end.rawValue, start.rawValue)
        var stop = false
        var applied: UInt64 = 0
        var pending: [DecodedEvent] = []
        pending.reserveCapacity(ProjectionSet.batchSize)
        // While it runs, the set belongs to the pipeline: batches are applied on the lanes' threads while the
        // reader decodes the next ones (only with more than one lane). It lives across read transactions: its
        // lane threads start once and are not drained at every transaction's end (a drain left the lanes idle
        // while the reader started the next transaction, and the reader idle while the lanes finished). It is
        // drained only where the whole set is needed: when a lane has seen an event land before a user's
        // in-memory history (``PipelinedApplier/needsHistory``), at the end, or on a failure.
        var applier: PipelinedApplier?
        func flush() {
            applied += UInt64(pending.count)
            if let applier {
                applier.hand(&pending)
            } else {
                set.apply(batch: pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        // The payload's bytes are copied here, one event after the other, to be decoded: no array per event.
        var scratch: [UInt8] = []
        // Decodes one event, whose payload is `payload` (its own `payload` is not read), into the pending batch;
        // false once the as-of point is passed (positions only grow).
        func consume(_ event: RecordedEvent, payload: UnsafeRawBufferPointer) -> Bool {
            guard !stop else { return false }  // past the as-of point nothing more is applied
            if let asOf, !asOf.includes(event) {
                if case .position = asOf { stop = true }
                return !stop
            }
            if let validAt, event.occurredAt > validAt { return true }
            do throws(ProjectionStateError) {
                pending.append(try DecodedEvent(decoding: event, payload: payload, scratch: &scratch))
            } catch {
                // Not the domain's, or unreadable: apply what came before, then move every projection past it
                // (the skipped event is recorded with its payload).
                flush()
                var whole = event
                whole.payload = Array(payload)
                if let applier { applier.skip(whole) } else { set.skip(whole) }
                return true
            }
            if pending.count == (applier == nil ? ProjectionSet.batchSize : PipelinedApplier.batchSize) { flush() }
            return true
        }
        // Waits for the lanes and takes the set back.
        func drain() {
            guard let running = applier else { return }
            applier = nil
            set = running.finish()
        }
        // Late events that landed before a user's in-memory history horizon: rebuild that user from its stream.
        func rebuildHistories() async throws(Failure) {
            for user in set.usersNeedingHistory {
                let stream = try await storage({ () throws(EventStoreError) in
                    try await store.read(stream: StreamName(unchecked: AggregateStream.user(user).rawValue))
                })
                let known = stream.filter { event in
                    (asOf?.includes(event) ?? true) && (validAt.map { event.occurredAt <= $0 } ?? true)
                }
                set.rebuildHistory(of: user, from: known)
            }
        }
        while position < end && !stop {
            let before = position
            if let scanning = store as? any EventScanning {
                // The fast path: events go straight from the read transaction into the projections, on the
                // backend's reader thread while this task waits; with more than one lane, each batch is applied
                // on another thread while the reader decodes the next.
                // (Only for a long enough stretch: a few events are not worth starting the lanes' threads.)
                if applier == nil && set.lanes > 1
                    && end.rawValue - position.rawValue >= 2 * PipelinedApplier.batchSize
                {
                    applier = PipelinedApplier(taking: &set, inlineBatches: 0)
                    pending.reserveCapacity(PipelinedApplier.batchSize)
                }
                let scanned: Result<GlobalPosition, Failure>
                do {
                    scanned = .success(
                        try await storage({ () async throws(EventStoreError) in
                            try await scanning.scanInPlaceOnReaderThread(after: position, maximumCount: batchSize) {
                                (event, payload) throws(EventStoreError) in
                                _ = consume(event, payload: payload)
                            }
                        }))
                } catch {
                    scanned = .failure(error)
                }
                if let running = applier {
                    if case .success = scanned {
                        flush()
                        if running.needsHistory { drain() }
                    } else {
                        drain()
                    }
                }
                position = try scanned.get()
            } else {
                let batch = try await storage({ () throws(EventStoreError) in
                    try await store.readAll(after: position, maximumCount: batchSize)
                })
                for event in batch where event.payload.withUnsafeBytes({ consume(event, payload: $0) }) {}
                position = batch.last?.position ?? position
            }
            flush()
            if applier == nil { try await rebuildHistories() }
            if position == before { break }
            progress?(min(position.rawValue - start.rawValue, total), total)
        }
        if applier != nil {
            drain()
            try await rebuildHistories()
        }
        report.eventsApplied = applied
        report.position = set.position
        report.skipped = set.skipped
        recordLag { _ in report.position }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        Counter(label: "cumulus_projection_applied_events", factory: factory).increment(by: Int64(clamping: applied))
        Timer(label: "cumulus_projection_catch_up_duration", factory: factory).recordNanoseconds(Int64(seconds * 1e9))
        if applied > 0 && seconds > 0 {
            Recorder(label: "cumulus_projection_catch_up_rate", factory: factory).record(Double(applied) / seconds)
        }
        logger.debug(
            "projections caught up",
            metadata: [
                "applied": "\(applied)", "position": "\(report.position)", "rebuilt": "\(report.rebuilt.count)",
                "milliseconds": "\(Int(seconds * 1000))",
            ])
        return report
    }

    /// A logger that discards everything: the default, so that an embedder sees no output it did not ask for.
    public static let silentLogger = Logger(label: "cumulus.projections", factory: { _ in SwiftLogNoOpLogHandler() })

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
}
