import CumulusCommands
import CumulusDemo
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// After a batch the handler takes its speculative model as the caught-up one when the log holds exactly the
/// batch's events after what it had seen (no read back, no second fold). Whichever way it went, its model must be
/// the one a fresh handler folds from the log.
@Suite("A batch's model is the log's")
struct BatchModelTests {
    @Test func afterEveryBatchTheModelIsWhatTheLogRebuilds() async throws {
        let log = try TemporaryEventLog(durability: .deferred)
        var world = DemoWorld(tenants: 2, usersPerTenant: 12)
        var requests = world.setUp() + world.feed(day: 0)
        // A line repeating an earlier line's event id in the same batch takes the handler's other way.
        if let repeated = requests.lastIndex(where: { $0.eventID != nil }) {
            requests.insert(requests[repeated], at: repeated + 1)
        }
        let handler = CommandHandler(store: log.store)
        var start = 0
        var batches = 0
        while start < requests.count {
            let batch = Array(requests[start..<min(start + 400, requests.count)])
            start += batch.count
            let results = try await handler.handle(batch: batch)
            #expect(results.contains { (try? $0.get()) != nil })
            let fresh = CommandHandler(store: log.store)
            try await fresh.catchUp()
            let (kept, rebuilt) = (await handler.currentModel, await fresh.currentModel)
            #expect(kept.position == rebuilt.position, "batch \(batches)")
            let same = kept == rebuilt  // compared outside #expect, which would print both whole models
            #expect(same, "batch \(batches): the model differs from the one folded from the log")
            batches += 1
        }
        #expect(batches >= 3)
        #expect(try await log.store.lastPosition().rawValue > 1_000)
    }

    /// Another writer's event lands between every batch's decisions and its append (a store that appends one
    /// first): no batch's events are right after what its handler had seen, so no batch may keep its speculation.
    /// After every batch the model must equal the log folded up to the model's position.
    @Test func aBatchWithAnotherWritersEventBeforeItsOwnIsFoldedFromTheLog() async throws {
        let log = try TemporaryEventLog(durability: .deferred)
        var world = DemoWorld(tenants: 2, usersPerTenant: 10)
        let requests = world.setUp() + world.feed(day: 0)
        let store = InterleavingStore(base: log.store)
        let handler = CommandHandler(store: store)
        var start = 0
        var batches = 0
        while start < requests.count {
            let batch = Array(requests[start..<min(start + 300, requests.count)])
            start += batch.count
            _ = try await handler.handle(batch: batch)
            let kept = await handler.currentModel
            var folded = WriteModel()
            for event in try await log.store.readAll(after: .start, maximumCount: Int(kept.position.rawValue)) {
                folded.apply(event)
            }
            let same = folded == kept  // outside #expect, which would print both whole models
            #expect(same, "batch \(batches): the model differs from the log folded to \(kept.position)")
            batches += 1
        }
        #expect(batches >= 3)
        #expect(try await log.store.read(stream: InterleavingStore.stream).count >= batches)
    }
}

/// A store that appends one event of another writer (to `notes-interleaved`) before each group of units.
private struct InterleavingStore: WrappingStore {
    static let stream = StreamName(unchecked: "notes-interleaved")
    let base: any EventStore

    func append(units: [[StreamAppend]]) async throws(EventStoreError) -> [Result<[AppendResult], EventStoreError>] {
        _ = try await base.append(atomically: [
            StreamAppend(stream: Self.stream, expectedVersion: .any, events: SampleEvents.make(1))
        ])
        return try await base.append(units: units)
    }
}
