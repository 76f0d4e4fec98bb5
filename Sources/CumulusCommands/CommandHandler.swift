public import CoreMetrics
public import CumulusDomain
public import CumulusLog
import Foundation
public import Logging
import Synchronization

/// Runs commands on the log: catch up, decide, append with the versions decided on, retry on a race.
///
/// ```swift
/// let handler = CommandHandler(store: log)
/// let outcome = try await handler.handle(CommandRequest(command: .createTenant(…), actor: .systemAdmin, occurredAt: now))
/// ```
///
/// Every stream a decision writes is appended with the version the decision saw, in one atomic
/// multi-stream append; if any moved meanwhile (another task, handler or process), the handler catches up
/// and decides again. Invariants that span aggregates are decided on one stream each (a tenant's licence
/// pool, the tenant registry, an OU's content), so a race has exactly one winner.
///
/// It logs to the `logger` it is given (silent by default) and counts every command through swift-metrics as
/// `cumulus_commands` by action, outcome (`accepted`, `refused`, `failed`) and reason code; neither carries a
/// command's data.
public actor CommandHandler {
    /// The log the handler reads and appends to.
    public let store: any EventStore
    private var model = WriteModel()
    /// How many times a command is decided again after losing a race before giving up.
    public let maximumAttempts: Int

    private let metrics: CommandMetrics

    /// A logger that discards everything: the default, so that an embedder sees no output it did not ask for.
    public static let silentLogger = Logger(label: "cumulus.commands", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A handler on `store`; its model (empty, or `model`) is caught up on first use.
    ///
    /// To start from the kept write model instead of position 0, call ``restoreCheckpoint()`` before the first
    /// command, and ``saveCheckpoint()`` now and then (the CLI does after each import).
    /// - Parameters:
    ///   - store: the log.
    ///   - model: the model to start from (empty: fold from position 0).
    ///   - maximumAttempts: how often a command is decided again after losing a race.
    ///   - logger: where to log refusals and failures; silent by default.
    ///   - metricsFactory: where to count commands; the bootstrapped `MetricsSystem` by default.
    public init(
        store: any EventStore,
        model: WriteModel = WriteModel(),
        maximumAttempts: Int = 50,
        logger: Logger = CommandHandler.silentLogger,
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.store = store
        self.model = model
        self.maximumAttempts = maximumAttempts
        self.metrics = CommandMetrics(factory: metricsFactory ?? MetricsSystem.factory, logger: logger)
    }

    /// The model as last caught up.
    public var currentModel: WriteModel { model }

    /// Loads the write model from the log's checkpoint, unless the handler's model is already further on.
    ///
    /// A checkpoint of another code version or with damaged bytes is ignored (the model is then folded from
    /// position 0 on the next catch-up); the outcome says which, so that the caller can log why.
    /// - Throws: ``CommandError/storage(_:)`` when the checkpoint cannot be read.
    @discardableResult
    public func restoreCheckpoint() async throws(CommandError) -> WriteModel.Restore {
        let checkpoint: Checkpoint?
        do {
            checkpoint = try await store.checkpoint(named: WriteModel.checkpointName)
        } catch {
            // The store found the checkpoint's bytes damaged (its own checksum): fold from 0 instead of failing.
            guard case .integrityViolation = error else { throw .storage(error) }
            return .damaged(reason: error.description)
        }
        let (restored, outcome) = WriteModel.restoring(checkpoint)
        if restored.position > model.position { model = restored }
        return outcome
    }

    /// Catches the model up with the log and saves it as the log's write-model checkpoint.
    /// - Returns: the position saved.
    /// - Throws: ``CommandError/storage(_:)``, and ``CommandError/undecodableEvent(position:type:reason:)`` from
    ///   the catch-up.
    @discardableResult
    public func saveCheckpoint() async throws(CommandError) -> GlobalPosition {
        try await catchUp()
        let checkpoint = model.checkpoint()
        do {
            try await store.save(checkpoint)
        } catch {
            throw .storage(error)
        }
        return checkpoint.position
    }

    /// Folds every event appended since the last catch-up.
    public func catchUp() async throws(CommandError) {
        while true {
            let batch: [RecordedEvent]
            do {
                batch = try await store.readAll(after: model.position, maximumCount: 8192)
            } catch {
                throw .storage(error)
            }
            if batch.isEmpty { return }
            for event in batch { model.apply(event) }
        }
    }

    /// Decides and appends one command.
    /// - Throws: ``CommandError/refused(_:)`` when the domain refuses it (nothing appended), and the log's errors.
    public func handle(_ request: CommandRequest) async throws(CommandError) -> CommandOutcome {
        do {
            let outcome = try await decideAndAppend(request)
            metrics.record(request, .success(outcome))
            return outcome
        } catch {
            metrics.record(request, .failure(error))
            throw error
        }
    }

    private func decideAndAppend(_ request: CommandRequest) async throws(CommandError) -> CommandOutcome {
        if let stored = try await storedEvent(of: request) {
            try await catchUp()
            return try Self.repeatOutcome(of: request, original: stored, model: &model).get()
        }
        var conflict: (stream: StreamName, seenAt: GlobalPosition)?
        for _ in 0..<maximumAttempts {
            try await catchUp()
            if let conflict, model.position == conflict.seenAt {
                // Nothing new in the log since the decision, yet the stream is not where the decision expected
                // it: the command creates an entity whose id is taken. Deciding again won't help.
                throw .streamConflict(stream: conflict.stream.rawValue)
            }
            let decision: Decision
            do {
                decision = try model.decide(request)
            } catch {
                throw .refused(error)
            }
            if decision.isEmpty { return .unchanged }
            // Where the model stood when deciding: other tasks on this actor may move it while we await.
            let decidedAt = model.position
            do {
                let results = try await store.append(
                    atomically: Self.appends(for: decision, request: request, model: model))
                return results.allSatisfy(\.wasAlreadyStored)
                    ? .alreadyStored(results.first?.firstPosition ?? .start) : .appended(results)
            } catch {
                if case .wrongExpectedVersion(let stream, _, _) = error {
                    conflict = (stream, decidedAt)
                    metrics.retry(request)
                    continue
                }
                throw .storage(error)
            }
        }
        throw .tooMuchContention(attempts: maximumAttempts)
    }

    /// Where the batch's event ids are already stored, looked up in one read when the log can (`nil` when it
    /// cannot: the batch then asks per request).
    private func storedPositions(of requests: [CommandRequest]) async throws(CommandError) -> [UUID: GlobalPosition]? {
        guard let scanning = store as? any EventScanning else { return nil }
        let ids = requests.compactMap(\.eventID)
        let positions: [GlobalPosition?]
        do {
            positions = try await scanning.positions(ofEventIDs: ids.map(EventID.init))
        } catch {
            throw .storage(error)
        }
        var stored: [UUID: GlobalPosition] = [:]
        for (id, position) in zip(ids, positions) { if let position { stored[id] = position } }
        return stored
    }

    private func storedEvent(of request: CommandRequest) async throws(CommandError) -> RecordedEvent? {
        guard let id = request.eventID else { return nil }
        do {
            return try await store.event(id: EventID(id))
        } catch {
            throw .storage(error)
        }
    }

    /// A request whose event id the log holds already. The permission check comes first for any other actor or
    /// instant (a repeated id never lets an actor skip it); then the content: a true repeat — same actor, same `occurredAt`, and (when the command
    /// can still be decided) the same first event — is ``CommandOutcome/alreadyStored(_:)``; anything else reuses
    /// the id for another command and is refused as an id conflict, naming the id and where it is stored.
    static func repeatOutcome(
        of request: CommandRequest, original: RecordedEvent, model: inout WriteModel
    ) -> Result<CommandOutcome, CommandError> {
        repeatOutcome(
            of: request,
            original: ProposedEvent(
                id: original.id, type: original.type, schemaVersion: original.schemaVersion,
                occurredAt: original.occurredAt, actor: original.actor, payload: original.payload),
            storedAt: original.position, model: &model)
    }

    /// ``repeatOutcome(of:original:model:)`` for an event this handler has just appended at `position`: answered
    /// from what it appended, without reading it back.
    static func repeatOutcome(
        of request: CommandRequest, original: ProposedEvent, storedAt position: GlobalPosition,
        model: inout WriteModel
    ) -> Result<CommandOutcome, CommandError> {
        // The stored event shows that this actor was allowed at the time; a repeat by the same actor at the same
        // instant is not refused because the world has moved on since (a retry after the user was removed).
        let sameEnvelope =
            original.actor == request.actor.description
            && original.occurredAt.microsecondsSinceEpoch == request.occurredAt
        var first: DomainEvent?
        do throws(DomainError) {
            // Decided in place (``WriteModel/decide(_:)`` leaves the model as it was): no copy of the tenant's context.
            first = try model.decide(request).events.first
        } catch {
            if case .permissionDenied = error, !sameEnvelope { return .failure(.refused(error)) }
            // Refused for another reason (e.g. the entity it created exists now): compare the envelope only.
        }
        var same = sameEnvelope
        if same, let first {
            same =
                first.typeName == original.type && first.schemaVersion == original.schemaVersion
                && first.encodePayload() == original.payload
        }
        guard same else { return .failure(.storage(.eventIDConflict(id: original.id, storedAt: position))) }
        return .success(.alreadyStored(position))
    }

    /// The log appends of a decision: its events per stream, each stream expected at the version the
    /// model saw (or absent, for streams the decision creates).
    static func appends(for decision: Decision, request: CommandRequest, model: WriteModel) -> [StreamAppend] {
        let changes = decision.changes
        return appends(for: changes, request: request, versions: changes.map { model.version(of: $0.stream) })
    }

    /// The log appends of a decision's changes, each stream expected at `versions` (one per change, in order: the
    /// versions the model saw, as `WriteModel.speculate(_:changes:)` returns them).
    static func appends(
        for changes: [StreamChange], request: CommandRequest, versions: [StreamVersion]
    ) -> [StreamAppend] {
        // A time-ordered id: Foundation's UUID() reads /dev/urandom through a file on every call here.
        let correlation = request.eventID ?? EventID.generate().uuid
        // The actor's text once per command, not once per event.
        let actor = request.actor.description
        var first = true
        return zip(changes, versions).map { change, version in
            let events = change.events.map { event -> ProposedEvent in
                defer { first = false }
                return ProposedEvent(
                    id: first ? request.eventID.map(EventID.init) ?? .generate() : .generate(),
                    type: event.typeName,
                    schemaVersion: event.schemaVersion,
                    occurredAt: Timestamp(microsecondsSinceEpoch: request.occurredAt),
                    actor: actor,
                    correlationID: correlation,
                    payload: event.encodePayload()
                )
            }
            return StreamAppend(
                stream: StreamName(unchecked: change.stream.rawValue),
                expectedVersion: change.isNewStream || version == .empty ? .noStream : .exactly(version),
                events: events
            )
        }
    }

    // MARK: Batches

    /// The outcome of one line of a batch.
    public typealias LineResult = Result<CommandOutcome, CommandError>

    /// Decides a batch of commands in order against one view of the log — each seeing the effects of the
    /// ones before it — and appends all accepted ones in one group commit, each atomically on its own.
    ///
    /// Every command keeps its own checks (unknown user, non-operational tenant, duplicate id); a refused
    /// one appends nothing and does not affect the others. A command that loses a race with another writer
    /// is decided again on its own.
    public func handle(batch requests: [CommandRequest]) async throws(CommandError) -> [LineResult] {
        try await catchUp()
        let decided = try await decide(requests, on: model, at: model.position, inFlight: [:])
        let appended: [Result<[AppendResult], EventStoreError>]
        do {
            appended = try await store.append(units: decided.units)
        } catch {
            throw .storage(error)
        }
        return try await finish(decided, appended: appended).lines
    }

    /// What ``handle(batches:progress:)`` did: the lines of every batch handled, and the error that stopped it.
    public struct BatchesOutcome: Sendable {
        /// Per batch handled, in order, its lines as ``CommandHandler/handle(batch:)`` returns them. Batches after
        /// a failure are absent: nothing of them was appended.
        public var results: [[LineResult]]
        /// The error that stopped the run at batch `results.count` (as ``CommandHandler/handle(batch:)`` would
        /// have thrown it), or nil when every batch was handled.
        public var failure: CommandError?
    }

    /// Handles `batches` one after another, each exactly as ``handle(batch:)`` would, but decides each next batch
    /// while the one before it is being committed (an import's decisions and its group commits then overlap
    /// instead of adding up).
    ///
    /// The next batch is decided against the model the current batch's decisions lead to. It is appended only if
    /// the current batch turned out as decided — every line appended, right after what the model had seen, with
    /// nothing else folded since — so it was decided against exactly the model it would otherwise have been
    /// decided against; if not, it is decided again, after the catch-up. An event id of the current batch that
    /// the next one repeats is answered against the stored event, as within one batch.
    /// - Parameters:
    ///   - batches: the batches, in order.
    ///   - progress: called after each batch with the number of batches handled.
    /// - Returns: the lines of the batches handled, and the error that stopped the run (nothing of the batches
    ///   after it was appended).
    public func handle(
        batches: [[CommandRequest]], progress: (@Sendable (Int) -> Void)? = nil
    ) async -> BatchesOutcome {
        var outcome = BatchesOutcome(results: [], failure: nil)
        outcome.results.reserveCapacity(batches.count)
        do throws(CommandError) {
            guard !batches.isEmpty else { return outcome }
            try await catchUp()
            var current = try await decide(batches[0], on: model, at: model.position, inFlight: [:])
            // The appends of the batch committed last. Freeing a batch's payloads, names and arrays was ≈ 10% of the
            // actor's samples by `perf`; the appending task that frees them the moment its own append returns races
            // the writer thread, which then often frees them itself. So each appending task frees the batch before's
            // appends, after its own append (the writer let go of those long since): neither the actor nor the writer
            // frees them.
            var spent: [[StreamAppend]] = []
            for index in batches.indices {
                let handoff = AppendsHandoff(units: current.units, spent: spent)
                (current.units, spent) = ([], [])
                async let committing = Self.append(handoff, to: store)
                // Decided while the current batch commits, against what the current batch leads to. A failure here
                // waits for the current batch's outcome: the batch is decided again below, where it fails again.
                var next: Result<DecidedBatch, CommandError>?
                if index + 1 < batches.count {
                    do throws(CommandError) {
                        next = .success(
                            try await decide(
                                batches[index + 1], on: current.speculative, at: nil, inFlight: current.unitTaking))
                    } catch {
                        next = .failure(error)
                    }
                }
                let committed = await committing
                spent = committed.units
                let finished = try await finish(current, appended: try committed.result.get())
                outcome.results.append(finished.lines)
                progress?(index + 1)
                guard index + 1 < batches.count else { break }
                if case .success(var next) = next, let end = finished.keptAt, model.position == end {
                    next.base = end
                    current = next
                } else {
                    try await catchUp()
                    current = try await decide(batches[index + 1], on: model, at: model.position, inFlight: [:])
                }
            }
        } catch {
            outcome.failure = error
        }
        return outcome
    }

    /// A batch's appends, off the actor (so that the actor decides the next batch meanwhile). The batch before's
    /// appends are released here after the append; the batch's own are returned, to be released by the next call.
    private nonisolated static func append(
        _ handoff: AppendsHandoff, to store: any EventStore
    ) async -> (result: Result<[Result<[AppendResult], EventStoreError>], CommandError>, units: [[StreamAppend]]) {
        let (units, spent) = handoff.take()
        let result: Result<[Result<[AppendResult], EventStoreError>], CommandError>
        do {
            result = .success(try await store.append(units: units))
        } catch {
            result = .failure(.storage(error))
        }
        withExtendedLifetime(spent) {}
        return (result, units)
    }

    /// A batch's appends and the batch before's on their way to the task that appends the first and releases the
    /// second: taken out once, so that the task holds the only reference to both.
    private final class AppendsHandoff: Sendable {
        private let contents: Mutex<(units: [[StreamAppend]], spent: [[StreamAppend]])>
        init(units: [[StreamAppend]], spent: [[StreamAppend]]) { contents = Mutex((units, spent)) }
        /// The appends and the batch before's; the hand-off is empty after.
        func take() -> (units: [[StreamAppend]], spent: [[StreamAppend]]) {
            contents.withLock { contents in
                defer { contents = ([], []) }
                return contents
            }
        }
    }

    /// A batch decided against a model, not yet appended.
    private struct DecidedBatch {
        var requests: [CommandRequest]
        /// Per line: its outcome when known before the append (refused, unchanged, a repeat of a stored id).
        var results: [LineResult?]
        /// The appends of the accepted lines, one unit each, and each unit's line.
        var units: [[StreamAppend]] = []
        var unitIndex: [Int] = []
        /// Lines repeating an event id an earlier line takes: answered after the append, against the stored event.
        var repeats: [Int] = []
        /// The event ids the accepted lines of the batch decided on take, when pipelined (that batch is not stored
        /// yet when this one is decided). Only that batch's: the batches before it are stored by then, and their
        /// ids are found in the log (passing every batch's ids on copied an ever larger set per batch).
        var inFlight: [UUID: Int]
        /// The unit whose first event takes each id that an accepted line of this batch took.
        var unitTaking: [UUID: Int] = [:]
        /// The first event of each unit whose id a line of `repeats` repeats, by unit (what the repeat is compared
        /// with; kept apart from `units`, which the pipelined run hands to the appending task).
        var repeatedFirstEvents: [Int: ProposedEvent] = [:]
        /// Whether folding the decisions in the order they were decided folds their events in the order the log
        /// stores them (grouped by stream); see `ownAppendsEnd`.
        var inLogOrder = true
        /// The model after the accepted lines' events.
        var speculative: WriteModel
        /// The position of the log the decisions were made at (nil while the batch before is still in flight).
        var base: GlobalPosition?
    }

    /// Decides `requests` in order against `model` (each seeing the effects of the ones before it); `inFlight`: the
    /// ids taken by the batch being appended meanwhile (`DecidedBatch.inFlight`).
    private func decide(
        _ requests: [CommandRequest], on model: WriteModel, at base: GlobalPosition?, inFlight: [UUID: Int]
    ) async throws(CommandError) -> DecidedBatch {
        var batch = DecidedBatch(
            requests: requests, results: [LineResult?](repeating: nil, count: requests.count), inFlight: inFlight,
            speculative: model, base: base)
        let stored = try await storedPositions(of: requests)
        for (index, request) in requests.enumerated() {
            if let id = request.eventID {
                if let unit = batch.unitTaking[id] {
                    batch.repeats.append(index)
                    batch.repeatedFirstEvents[unit] = batch.units[unit].first?.events.first
                    continue
                }
                if batch.inFlight[id] != nil {
                    batch.repeats.append(index)
                    continue
                }
                // The one-read lookup says which ids are stored (when the log can); only those are fetched whole.
                if stored?[id] != nil || stored == nil, let original = try await storedEvent(of: request) {
                    batch.results[index] = Self.repeatOutcome(
                        of: request, original: original, model: &batch.speculative)
                    continue
                }
            }
            let decision: Decision
            do {
                decision = try batch.speculative.decide(request)
            } catch {
                batch.results[index] = .failure(.refused(error))
                continue
            }
            if decision.isEmpty {
                batch.results[index] = .success(.unchanged)
                continue
            }
            // The events per stream, grouped once for both the append and the speculation.
            let changes = decision.changes
            if changes.count > 1 && changes.flatMap(\.events) != decision.events { batch.inLogOrder = false }
            if let id = request.eventID { batch.unitTaking[id] = batch.units.count }
            // The speculation advances each stream's version and returns the one before: what the append expects.
            let versions = batch.speculative.speculate(decision, changes: changes)
            batch.units.append(Self.appends(for: changes, request: request, versions: versions))
            batch.unitIndex.append(index)
        }
        return batch
    }

    /// Takes a decided batch's append results: lines refused for a race are decided again, repeats answered, and
    /// the model caught up. Returns the lines, and the position the batch's speculative model was kept at (nil
    /// when the model was folded from the log instead).
    private func finish(
        _ batch: DecidedBatch, appended: [Result<[AppendResult], EventStoreError>]
    ) async throws(CommandError) -> (lines: [LineResult], keptAt: GlobalPosition?) {
        var results = batch.results
        var retry: [Int] = []
        for (unit, index) in zip(appended, batch.unitIndex) {
            switch unit {
            case .success(let appendResults):
                results[index] = .success(
                    appendResults.allSatisfy(\.wasAlreadyStored)
                        ? .alreadyStored(appendResults.first?.firstPosition ?? .start) : .appended(appendResults)
                )
            case .failure(.wrongExpectedVersion):
                retry.append(index)
                metrics.retry(batch.requests[index])
            case .failure(let error):
                results[index] = .failure(.storage(error))
            }
        }
        // When the log now holds exactly this batch's events right after the position its decisions were made at,
        // in the order the speculation folded them, and the model still stands there (no other task on this actor
        // moved it meanwhile), the speculative model is what folding them back from the log would give: it is
        // taken as it is (the lines below, and the catch-up at the end, read only what other writers appended
        // after them). A refused unit (a line to decide again) leaves the model to the catch-up.
        var keptAt: GlobalPosition?
        if batch.inLogOrder, let base = batch.base, model.position == base,
            let end = Self.ownAppendsEnd(appended, after: base)
        {
            var speculative = batch.speculative
            speculative.position = end
            model = speculative
            keptAt = end
        }
        // Another writer got in between (or an earlier line of this batch failed): decide those again, in order;
        // then the lines that repeat an id of an earlier line, now against what the log holds.
        for index in retry { results[index] = await decideAlone(batch.requests[index]).line }
        try await catchUp()
        // Whether a repeat decided on its own may have appended: only then is there more to catch up with.
        var repeatsAppended = false
        for index in batch.repeats {
            let request = batch.requests[index]
            // The id's event appended by this batch (not found stored before it): answered from what was appended,
            // as `decideAndAppend` would answer it from the stored event, without reading each one back.
            if let id = request.eventID, let unit = batch.unitTaking[id], case .success(let stored) = appended[unit],
                let first = stored.first, !first.wasAlreadyStored, let event = batch.repeatedFirstEvents[unit],
                event.id.uuid == id
            {
                results[index] = Self.repeatOutcome(
                    of: request, original: event, storedAt: first.firstPosition, model: &model)
                continue
            }
            // Its earlier line did not append it (refused by the store, stored before, or in the batch before):
            // decided on its own, against the log.
            let alone = await decideAlone(request)
            results[index] = alone.line
            repeatsAppended = repeatsAppended || alone.mayHaveAppended
        }
        // Every line has its answer by now (decided, appended, retried or repeated). Were one left without, it is
        // decided on its own against the log, as a retried line is, rather than given an answer nobody computed.
        var lines: [LineResult] = []
        lines.reserveCapacity(results.count)
        for (index, result) in results.enumerated() {
            if let result {
                lines.append(result)
                continue
            }
            let alone = await decideAlone(batch.requests[index])
            lines.append(alone.line)
            repeatsAppended = repeatsAppended || alone.mayHaveAppended
        }
        if repeatsAppended { try await catchUp() }
        metrics.record(batch: batch.requests, lines)
        return (lines, keptAt)
    }

    /// A line of a batch decided on its own, against the log (`decideAndAppend`), and whether it may have appended
    /// (then the model has more to catch up with): it appended, or a storage error left that unknown.
    private func decideAlone(_ request: CommandRequest) async -> (line: LineResult, mayHaveAppended: Bool) {
        do {
            let outcome = try await decideAndAppend(request)
            if case .appended = outcome { return (.success(outcome), true) }
            return (.success(outcome), false)
        } catch {
            if case .storage = error { return (.failure(error), true) }
            return (.failure(error), false)
        }
    }

    /// The last position of a batch's appends when they are exactly the events right after `start`: every unit
    /// appended (none refused, none stored before), each stream's events following the previous ones with no
    /// position in between. Nil otherwise (another writer's events among them, a refusal, a repeat).
    static func ownAppendsEnd(
        _ appended: [Result<[AppendResult], EventStoreError>], after start: GlobalPosition
    ) -> GlobalPosition? {
        var last = start.rawValue
        for unit in appended {
            guard case .success(let results) = unit else { return nil }
            for result in results {
                guard !result.wasAlreadyStored, result.firstPosition.rawValue == last + 1,
                    result.lastPosition >= result.firstPosition
                else { return nil }
                last = result.lastPosition.rawValue
            }
        }
        return GlobalPosition(last)
    }

    /// Decides every command in order and appends all of them in one atomic multi-stream append, or none.
    ///
    /// - Returns: per command, its refusal or acceptance (accepted lines carry no results of their own:
    ///   the one append holds them all), and that append's results. If any command is refused, nothing
    ///   is appended and `appended` is empty.
    public func handle(
        atomically requests: [CommandRequest]
    ) async throws(CommandError)
        -> (lines: [LineResult], appended: [AppendResult])
    {
        for _ in 0..<maximumAttempts {
            try await catchUp()
            var speculative = model
            var results: [LineResult] = []
            var merged: [StreamAppend] = []
            var position: [String: Int] = [:]
            var refused = false
            for request in requests {
                let decision: Decision
                do {
                    decision = try speculative.decide(request)
                } catch {
                    results.append(.failure(.refused(error)))
                    refused = true
                    continue
                }
                results.append(.success(decision.isEmpty ? .unchanged : .appended([])))
                let changes = decision.changes
                let versions = speculative.speculate(decision, changes: changes)
                for append in Self.appends(for: changes, request: request, versions: versions) {
                    if let index = position[append.stream.rawValue] {
                        merged[index].events += append.events
                    } else {
                        position[append.stream.rawValue] = merged.count
                        merged.append(append)
                    }
                }
            }
            if refused || merged.isEmpty {
                // With a refusal nothing was carried out: only the refused lines count.
                for (request, line) in zip(requests, results) {
                    if case .failure = line {
                        metrics.record(request, line)
                    } else if !refused {
                        metrics.record(request, line)
                    }
                }
                return (results, [])
            }
            let appended: [AppendResult]
            do throws(EventStoreError) {
                appended = try await store.append(atomically: merged)
            } catch {
                if case .wrongExpectedVersion = error {
                    for request in requests { metrics.retry(request) }
                    continue
                }
                throw .storage(error)
            }
            try await catchUp()
            for (request, line) in zip(requests, results) { metrics.record(request, line) }
            return (results, appended)
        }
        throw .tooMuchContention(attempts: maximumAttempts)
    }
}
