import CumulusLMDB
import CumulusLog

/// Cumulus through its public API only: `LMDBEventStore.open`, `append(_:to:expecting:)`,
/// `append(atomically:)`, `scan(after:maximumCount:_:)`, `readAll(after:maximumCount:)`, `subscribe(after:)`,
/// with the default `.full` durability (every acknowledged append is flushed, data then meta page).
///
/// `@unchecked Sendable`: the store is `Sendable`; the workload is immutable; one task drives the rest.
final class CumulusStore: ContenderStore, @unchecked Sendable {
    private let store: LMDBEventStore
    private let workload: PresenceWorkload
    private let clock = ContinuousClock()
    /// Events per `scan` call: the documentation asks for tens of thousands so the snapshot is not pinned long.
    static let scanChunk = 65_536

    init(directory: String, workload: PresenceWorkload) throws {
        self.workload = workload
        store = try LMDBEventStore.open(directory: directory, options: .init(create: true, durability: .full))
    }

    func close() { store.close() }

    func appendOnePerCommit(_ events: [GeneratedEvent]) async throws -> RoundReport {
        var latencies: [Double] = []
        latencies.reserveCapacity(events.count)
        let began = clock.now
        for event in events {
            let start = clock.now
            _ = try await store.append([event.proposed], to: workload.streams[event.streamIndex], expecting: .any)
            latencies.append(microseconds(clock.now - start))
        }
        return RoundReport(events: events.count, seconds: seconds(clock.now - began), latencies: latencies)
    }

    func appendConcurrently(_ events: [GeneratedEvent], tasks: Int) async throws -> RoundReport {
        let store = self.store
        let streams = workload.streams
        let began = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for task in 0..<tasks {
                let share = stride(from: task, to: events.count, by: tasks).map { events[$0] }
                group.addTask {
                    let clock = ContinuousClock()
                    var latencies: [Double] = []
                    for event in share {
                        let start = clock.now
                        _ = try await store.append([event.proposed], to: streams[event.streamIndex], expecting: .any)
                        latencies.append(microseconds(clock.now - start))
                    }
                    return latencies
                }
            }
            var all: [Double] = []
            for try await latencies in group { all += latencies }
            return all
        }
        return RoundReport(events: events.count, seconds: seconds(clock.now - began), latencies: latencies)
    }

    func importBatch(_ events: [GeneratedEvent]) async throws -> RoundReport {
        let began = clock.now
        // One StreamAppend per run of one stream's events (the batch comes grouped by stream).
        var appends: [StreamAppend] = []
        var index = 0
        while index < events.count {
            let stream = events[index].streamIndex
            var proposed: [ProposedEvent] = []
            while index < events.count && events[index].streamIndex == stream {
                proposed.append(events[index].proposed)
                index += 1
            }
            appends.append(StreamAppend(stream: workload.streams[stream], expectedVersion: .any, events: proposed))
        }
        _ = try await store.append(atomically: appends)
        return RoundReport(events: events.count, seconds: seconds(clock.now - began), latencies: [])
    }

    func scanAll() throws -> RoundReport {
        let began = clock.now
        var position = GlobalPosition.start
        var count = 0
        var sum: UInt64 = 0
        while true {
            let last = try store.scan(after: position, maximumCount: Self.scanChunk) { event in
                count += 1
                sum &+=
                    event.streamVersion.rawValue &+ UInt64(event.payload.count)
                    &+ UInt64(event.stream.rawValue.utf8.count)
                    &+ UInt64(bitPattern: event.occurredAt.microsecondsSinceEpoch)
            }
            if last == position { break }
            position = last
        }
        guard sum != 1 else { throw BenchError("impossible checksum") }  // keeps the sum alive
        return RoundReport(events: count, seconds: seconds(clock.now - began), latencies: [])
    }

    func appendUntilVisible(_ events: [GeneratedEvent]) async throws -> RoundReport {
        let start = try await store.lastPosition()
        let (seen, continuation) = AsyncStream<ContinuousClock.Instant>.makeStream()
        let subscription = store.subscribe(after: start)
        let subscriber = Task {
            do {
                for try await _ in subscription { continuation.yield(ContinuousClock.now) }
            } catch {}
            continuation.finish()
        }
        defer { subscriber.cancel() }
        var iterator = seen.makeAsyncIterator()
        var latencies: [Double] = []
        let began = clock.now
        for event in events {
            let appended = clock.now
            _ = try await store.append([event.proposed], to: workload.streams[event.streamIndex], expecting: .any)
            guard let visible = await iterator.next() else { throw BenchError("the subscription ended early") }
            latencies.append(microseconds(visible - appended))
        }
        return RoundReport(events: events.count, seconds: seconds(clock.now - began), latencies: latencies)
    }

    func readBack() async throws -> Tally {
        var tally = Tally()
        var position = GlobalPosition.start
        while true {
            let batch = try await store.readAll(after: position, maximumCount: 10_000)
            guard let last = batch.last else { break }
            for event in batch { tally.add(stream: Array(event.stream.rawValue.utf8), payload: event.payload) }
            position = last.position
        }
        return tally
    }
}
