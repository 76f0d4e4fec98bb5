/// The event log: an append-only sequence of events, grouped in streams, behind which any backend can sit.
///
/// LMDB (`LMDBEventStore` in `CumulusLMDB`) is the embedded default. Every backend passes the same
/// conformance suite (`EventStoreConformance` in `CumulusTesting`).
///
/// Guarantees every backend gives:
/// - Appends are atomic: all events of a call are stored, or none.
/// - Positions start at 1 and have no gaps; stream versions start at 1 and have no gaps.
/// - An append whose events are all stored already (same ids, same content) returns the original
///   positions and writes nothing; the same id with other content is ``EventStoreError/eventIDConflict(id:storedAt:)``.
/// - A returned append is durable unless the backend was opened with a weaker durability.
public protocol EventStore: Sendable {
    /// Appends to several streams in one transaction: all are stored, or none.
    ///
    /// Each stream has its own expected version; one mismatch refuses the whole call.
    func append(atomically appends: [StreamAppend]) async throws(EventStoreError) -> [AppendResult]

    /// Appends many independent units in as few transactions as possible, each with its own result.
    ///
    /// Each unit is atomic on its own (all its streams, or none), exactly as ``append(atomically:)``; one
    /// refused unit (a version mismatch, a conflicting id) does not refuse the others. Results come back in
    /// the order of `units`. This is the high-volume path for feeds and imports.
    func append(units: [[StreamAppend]]) async throws(EventStoreError) -> [Result<[AppendResult], EventStoreError>]

    /// Reads up to `maximumCount` events of one stream, in order, starting at version `from`.
    func read(
        stream: StreamName,
        from version: StreamVersion,
        maximumCount: Int
    ) async throws(EventStoreError) -> [RecordedEvent]

    /// The current version of a stream; ``StreamVersion/empty`` when it has no event.
    func version(of stream: StreamName) async throws(EventStoreError) -> StreamVersion

    /// Reads up to `maximumCount` events of the whole log, in order, after `position`.
    ///
    /// Read the whole log in batches by passing the last position of each batch to the next call.
    func readAll(after position: GlobalPosition, maximumCount: Int) async throws(EventStoreError) -> [RecordedEvent]

    /// The position of the last event; ``GlobalPosition/start`` for an empty log.
    func lastPosition() async throws(EventStoreError) -> GlobalPosition

    /// The event with this id, or nil.
    func event(id: EventID) async throws(EventStoreError) -> RecordedEvent?

    /// Returns once the log holds an event after `position`, whoever appended it.
    ///
    /// - Throws: ``EventStoreError/cancelled`` when the task is cancelled, ``EventStoreError/closed``
    ///   when the log closes.
    func waitForEvents(after position: GlobalPosition) async throws(EventStoreError)

    /// Saves a projection's checkpoint atomically, replacing the one of the same name.
    func save(_ checkpoint: Checkpoint) async throws(EventStoreError)

    /// The checkpoint saved under `name`, or nil.
    func checkpoint(named name: String) async throws(EventStoreError) -> Checkpoint?

    /// Walks the whole log and checks the hash chain, every record and every index.
    ///
    /// - Parameter progress: called now and then with the number of events checked so far.
    /// - Throws: ``EventStoreError/integrityViolation(position:reason:)`` naming the first damaged position.
    func verify(progress: (@Sendable (UInt64) -> Void)?) async throws(EventStoreError) -> VerificationReport

    /// Counts and sizes.
    func statistics() async throws(EventStoreError) -> LogStatistics

    /// The hash-chain link of the event at `position` as stored, in hexadecimal like
    /// ``VerificationReport/headLink``; nil when the log holds no event there (position 0 or past the end).
    ///
    /// Every link depends on every record before it, so an auditor who wrote down a log's head (its last position
    /// and link) can check later that the log still holds exactly that history: the link at that position must be
    /// the one written down (`cumulus verify --expect-head POSITION:LINK`). The link is read as stored; call
    /// ``verify(progress:)`` first to know that the chain up to it is sound.
    func chainLink(at position: GlobalPosition) async throws(EventStoreError) -> String?
}

extension EventStore {
    /// Appends events to one stream atomically, if the stream is at the expected version.
    ///
    /// ```swift
    /// let result = try await store.append([event], to: StreamName("user-42"), expecting: .noStream)
    /// ```
    /// - Throws: ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)`` and the other
    ///   refusals of ``EventStoreError``; nothing is written then.
    public func append(
        _ events: [ProposedEvent],
        to stream: StreamName,
        expecting expectedVersion: ExpectedVersion = .any
    ) async throws(EventStoreError) -> AppendResult {
        let results = try await append(
            atomically: [StreamAppend(stream: stream, expectedVersion: expectedVersion, events: events)]
        )
        guard let result = results.first else { throw .emptyAppend(stream) }
        return result
    }

    /// Appends many independent single-stream appends, each with its own result; see ``append(units:)``.
    public func append(
        independently appends: [StreamAppend]
    ) async throws(EventStoreError)
        -> [Result<AppendResult, EventStoreError>]
    {
        let results = try await append(units: appends.map { [$0] })
        return results.map { result in
            result.flatMap { results in
                guard let first = results.first else {
                    return .failure(.invalidField(field: "append", reason: "no result"))
                }
                return .success(first)
            }
        }
    }

    /// Reads a whole stream from its first event.
    public func read(stream: StreamName) async throws(EventStoreError) -> [RecordedEvent] {
        try await read(stream: stream, from: StreamVersion(1), maximumCount: Int.max)
    }

    /// Follows the log: every event after `position`, then each new one as it is appended.
    ///
    /// ```swift
    /// for try await event in store.subscribe(after: checkpoint.position) { apply(event) }
    /// ```
    public func subscribe(after position: GlobalPosition, batchSize: Int = 1024) -> EventSubscription {
        EventSubscription(store: self, after: position, batchSize: batchSize)
    }

    /// Verifies without progress reports.
    public func verify() async throws(EventStoreError) -> VerificationReport {
        try await verify(progress: nil)
    }
}
