/// Every event after a position, then each new one as it commits: catch-up, then live.
///
/// It reads the log in batches (memory stays bounded by the batch size) and, once caught up, waits
/// for the backend's commit signal — no polling in the same process. Iterate it with `for try await`;
/// it ends only when the task is cancelled or the log closes (both throw).
public struct EventSubscription: AsyncSequence, Sendable {
    /// The events, in log order.
    public typealias Element = RecordedEvent
    /// The only failures are the log's own errors.
    public typealias Failure = EventStoreError

    let store: any EventStore
    let after: GlobalPosition
    let batchSize: Int

    /// Follows `store` from the event after `after`, reading `batchSize` events at a time.
    public init(store: any EventStore, after: GlobalPosition, batchSize: Int = 1024) {
        self.store = store
        self.after = after
        self.batchSize = Swift.max(1, batchSize)
    }

    /// Starts following.
    public func makeAsyncIterator() -> Iterator {
        Iterator(store: store, position: after, batchSize: batchSize)
    }

    /// Yields events one by one, reading the next batch or waiting for a commit when it runs out.
    public struct Iterator: AsyncIteratorProtocol {
        let store: any EventStore
        var position: GlobalPosition
        let batchSize: Int
        var buffer: [RecordedEvent] = []
        var index = 0

        /// The next event, waiting for it if the subscription has caught up.
        public mutating func next() async throws(EventStoreError) -> RecordedEvent? {
            while index >= buffer.count {
                if Task.isCancelled { throw .cancelled }
                buffer = try await store.readAll(after: position, maximumCount: batchSize)
                index = 0
                if buffer.isEmpty { try await store.waitForEvents(after: position) }
            }
            let event = buffer[index]
            index += 1
            position = event.position
            return event
        }

    }
}
