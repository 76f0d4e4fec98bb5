public import CumulusDomain
public import CumulusLog
import Foundation

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
public actor CommandHandler {
    /// The log the handler reads and appends to.
    public let store: any EventStore
    private var model = WriteModel()
    /// How many times a command is decided again after losing a race before giving up.
    public let maximumAttempts: Int

    /// A handler on `store`; its model is caught up on first use.
    public init(store: any EventStore, maximumAttempts: Int = 50) {
        self.store = store
        self.maximumAttempts = maximumAttempts
    }

    /// The model as last caught up.
    public var currentModel: WriteModel { model }

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
            for event in batch { try model.apply(event) }
        }
    }

    /// Decides and appends one command.
    /// - Throws: ``CommandError/refused(_:)`` when the domain refuses it (nothing appended), and the log's errors.
    public func handle(_ request: CommandRequest) async throws(CommandError) -> CommandOutcome {
        if let stored = try await storedPosition(of: request) { return .alreadyStored(stored) }
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
                decision = try request.decide(in: model.context(for: request.command))
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
                    continue
                }
                throw .storage(error)
            }
        }
        throw .tooMuchContention(attempts: maximumAttempts)
    }

    /// Where the batch's event ids are already stored, looked up in one read when the log can (`nil` when it
    /// cannot: the batch then asks per request).
    private func storedPositions(of requests: [CommandRequest]) throws(CommandError) -> [UUID: GlobalPosition]? {
        guard let scanning = store as? any EventScanning else { return nil }
        let ids = requests.compactMap(\.eventID)
        let positions: [GlobalPosition?]
        do {
            positions = try scanning.positions(ofEventIDs: ids.map(EventID.init))
        } catch {
            throw .storage(error)
        }
        var stored: [UUID: GlobalPosition] = [:]
        for (id, position) in zip(ids, positions) { if let position { stored[id] = position } }
        return stored
    }

    private func storedPosition(of request: CommandRequest) async throws(CommandError) -> GlobalPosition? {
        guard let id = request.eventID else { return nil }
        do {
            return try await store.event(id: EventID(id))?.position
        } catch {
            throw .storage(error)
        }
    }

    /// The log appends of a decision: its events per stream, each stream expected at the version the
    /// model saw (or absent, for streams the decision creates).
    static func appends(for decision: Decision, request: CommandRequest, model: WriteModel) -> [StreamAppend] {
        // A time-ordered id: Foundation's UUID() reads /dev/urandom through a file on every call here.
        let correlation = request.eventID ?? EventID.generate().uuid
        var first = true
        return decision.changes.map { change in
            let events = change.events.map { event -> ProposedEvent in
                defer { first = false }
                return ProposedEvent(
                    id: first ? request.eventID.map(EventID.init) ?? .generate() : .generate(),
                    type: event.typeName,
                    schemaVersion: event.schemaVersion,
                    occurredAt: Timestamp(microsecondsSinceEpoch: request.occurredAt),
                    actor: request.actor.description,
                    correlationID: correlation,
                    payload: event.encodePayload()
                )
            }
            let version = model.version(of: change.stream)
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
        var speculative = model
        var results = [LineResult?](repeating: nil, count: requests.count)
        var units: [[StreamAppend]] = []
        var unitIndex: [Int] = []
        var seen = Set<UUID>()
        let stored = try storedPositions(of: requests)
        for (index, request) in requests.enumerated() {
            if let id = request.eventID {
                if !seen.insert(id).inserted {
                    results[index] = .success(.alreadyStored(.start))
                    continue
                }
                let position: GlobalPosition?
                if let stored { position = stored[id] } else { position = try await storedPosition(of: request) }
                if let position {
                    results[index] = .success(.alreadyStored(position))
                    continue
                }
            }
            let decision: Decision
            do {
                decision = try request.decide(in: speculative.context(for: request.command))
            } catch {
                results[index] = .failure(.refused(error))
                continue
            }
            if decision.isEmpty {
                results[index] = .success(.unchanged)
                continue
            }
            units.append(Self.appends(for: decision, request: request, model: speculative))
            unitIndex.append(index)
            speculative.speculate(decision)
        }
        let appended: [Result<[AppendResult], EventStoreError>]
        do {
            appended = try await store.append(units: units)
        } catch {
            throw .storage(error)
        }
        var retry: [Int] = []
        for (unit, index) in zip(appended, unitIndex) {
            switch unit {
            case .success(let appendResults):
                results[index] = .success(
                    appendResults.allSatisfy(\.wasAlreadyStored)
                        ? .alreadyStored(appendResults.first?.firstPosition ?? .start) : .appended(appendResults)
                )
            case .failure(.wrongExpectedVersion):
                retry.append(index)
            case .failure(let error):
                results[index] = .failure(.storage(error))
            }
        }
        // Another writer got in between (or an earlier line of this batch failed): decide those again, in order.
        for index in retry {
            do {
                results[index] = .success(try await handle(requests[index]))
            } catch {
                results[index] = .failure(error)
            }
        }
        try await catchUp()
        return results.map { $0 ?? .failure(.tooMuchContention(attempts: 0)) }
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
                    decision = try request.decide(in: speculative.context(for: request.command))
                } catch {
                    results.append(.failure(.refused(error)))
                    refused = true
                    continue
                }
                results.append(.success(decision.isEmpty ? .unchanged : .appended([])))
                for append in Self.appends(for: decision, request: request, model: speculative) {
                    if let index = position[append.stream.rawValue] {
                        merged[index].events += append.events
                    } else {
                        position[append.stream.rawValue] = merged.count
                        merged.append(append)
                    }
                }
                speculative.speculate(decision)
            }
            if refused || merged.isEmpty { return (results, []) }
            let appended: [AppendResult]
            do throws(EventStoreError) {
                appended = try await store.append(atomically: merged)
            } catch {
                if case .wrongExpectedVersion = error { continue }
                throw .storage(error)
            }
            try await catchUp()
            return (results, appended)
        }
        throw .tooMuchContention(attempts: maximumAttempts)
    }
}
