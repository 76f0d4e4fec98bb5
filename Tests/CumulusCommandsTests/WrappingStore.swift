import CumulusLog

/// A store that passes every call to `base` except the appends of units, which each wrapper of the tests changes
/// (one slips another writer's event in first, one refuses some units).
protocol WrappingStore: EventStore {
    /// The store the calls go to.
    var base: any EventStore { get }
}

extension WrappingStore {
    func append(atomically appends: [StreamAppend]) async throws(EventStoreError) -> [AppendResult] {
        try await base.append(atomically: appends)
    }
    func read(
        stream: StreamName, from version: StreamVersion, maximumCount: Int
    ) async throws(EventStoreError)
        -> [RecordedEvent]
    { try await base.read(stream: stream, from: version, maximumCount: maximumCount) }
    func version(of stream: StreamName) async throws(EventStoreError) -> StreamVersion {
        try await base.version(of: stream)
    }
    func readAll(after position: GlobalPosition, maximumCount: Int) async throws(EventStoreError) -> [RecordedEvent] {
        try await base.readAll(after: position, maximumCount: maximumCount)
    }
    func lastPosition() async throws(EventStoreError) -> GlobalPosition { try await base.lastPosition() }
    func event(id: EventID) async throws(EventStoreError) -> RecordedEvent? { try await base.event(id: id) }
    func waitForEvents(after position: GlobalPosition) async throws(EventStoreError) {
        try await base.waitForEvents(after: position)
    }
    func save(_ checkpoint: Checkpoint) async throws(EventStoreError) { try await base.save(checkpoint) }
    func checkpoint(named name: String) async throws(EventStoreError) -> Checkpoint? {
        try await base.checkpoint(named: name)
    }
    func verify(progress: (@Sendable (UInt64) -> Void)?) async throws(EventStoreError) -> VerificationReport {
        try await base.verify(progress: progress)
    }
    func statistics() async throws(EventStoreError) -> LogStatistics { try await base.statistics() }
    func chainLink(at position: GlobalPosition) async throws(EventStoreError) -> String? {
        try await base.chainLink(at: position)
    }
}
