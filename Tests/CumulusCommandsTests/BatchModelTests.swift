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

/// A line repeating the event id of an earlier line of its batch is answered from that line's append when it
/// appended; otherwise it is decided on its own (`decideAndAppend`), and only when that appends does the batch catch
/// up a second time. Either way the model must be the one folded from the log.
@Suite("A batch's model after a repeat decided on its own")
struct RepeatFallbackModelTests {
    /// The store refuses the earlier line's unit with a storage error (not a race): that line fails, the repeat is
    /// decided on its own and appends the event, so the model must fold it too.
    @Test func aRepeatThatAppendsIsFoldedIntoTheModel() async throws {
        try await check(
            refusing: { _ in .invalidField(field: "payload", reason: "refused by the test's store") },
            original: (
                "refused by the store", { if case .failure(.storage(.invalidField)) = $0 { true } else { false } }
            ),
            repeated: ("appended on its own", { if case .success(.appended) = $0 { true } else { false } }))
    }

    /// The store refuses the earlier line's unit as a lost race: that line is decided again and appended, and the
    /// repeat, decided on its own, finds it stored and appends nothing (no second catch-up is needed).
    @Test func aRepeatThatFindsItsEventStoredLeavesTheModelAsTheLogHasIt() async throws {
        try await check(
            refusing: { unit in
                .wrongExpectedVersion(
                    stream: unit.first?.stream ?? StreamName(unchecked: "notes-none"), expected: .noStream,
                    actual: StreamVersion(1))
            },
            original: ("appended when decided again", { if case .success(.appended) = $0 { true } else { false } }),
            repeated: ("answered as already stored", { if case .success(.alreadyStored) = $0 { true } else { false } }))
    }

    /// Runs the batch with the earlier line's unit refused by `refusing`, expects each line's result to be what its
    /// description says, and the handler's model to be the one folded from the log.
    private func check(
        refusing error: @escaping @Sendable ([StreamAppend]) -> EventStoreError,
        original: (String, (CommandHandler.LineResult) -> Bool),
        repeated: (String, (CommandHandler.LineResult) -> Bool)
    ) async throws {
        let (results, kept, rebuilt) = try await runBatch(refusing: error)
        #expect(original.1(results.original), "the earlier line was not \(original.0): \(results.original)")
        #expect(repeated.1(results.repeated), "the repeat was not \(repeated.0): \(results.repeated)")
        expectSameModel(kept, rebuilt)
    }

    /// The handler's model is the one a fresh handler folds from the log.
    private func expectSameModel(_ kept: WriteModel, _ rebuilt: WriteModel) {
        #expect(kept.position == rebuilt.position)
        let same = kept == rebuilt  // outside #expect, which would print both whole models
        #expect(same, "the model differs from the one folded from the log")
    }

    /// A small demo world set up, then one batch of a day's feed in which a line with an event id is repeated right
    /// after it; the store refuses that line's unit with `refusing`. Returns both lines' results, the handler's
    /// model and the model a fresh handler folds from the log.
    private func runBatch(
        refusing error: @escaping @Sendable ([StreamAppend]) -> EventStoreError
    ) async throws -> (
        results: (original: CommandHandler.LineResult, repeated: CommandHandler.LineResult), kept: WriteModel,
        rebuilt: WriteModel
    ) {
        let log = try TemporaryEventLog(durability: .deferred)
        var world = DemoWorld(tenants: 1, usersPerTenant: 6)
        let handler = CommandHandler(store: log.store)
        for line in try await handler.handle(batch: world.setUp()) { _ = try line.get() }
        var feed = world.feed(day: 0)
        let original = try #require(feed.lastIndex(where: { $0.eventID != nil }))
        let id = try #require(feed[original].eventID)
        feed.insert(feed[original], at: original + 1)
        let refusing = CommandHandler(store: FailingUnitStore(base: log.store, id: id, error: error))
        let results = try await refusing.handle(batch: feed)
        let fresh = CommandHandler(store: log.store)
        try await fresh.catchUp()
        return ((results[original], results[original + 1]), await refusing.currentModel, await fresh.currentModel)
    }
}

/// A store whose appends of units refuse the unit whose first event has the id `id` (with `error`) and append the
/// others; single appends pass through.
private struct FailingUnitStore: WrappingStore {
    let base: any EventStore
    let id: UUID
    let error: @Sendable ([StreamAppend]) -> EventStoreError

    func append(units: [[StreamAppend]]) async throws(EventStoreError) -> [Result<[AppendResult], EventStoreError>] {
        let refusing = units.map { $0.first?.events.first?.id.uuid == id }
        var passed = try await base.append(units: zip(units, refusing).filter { !$0.1 }.map(\.0)).makeIterator()
        return zip(units, refusing).map { unit, refuse in
            if refuse { return .failure(error(unit)) }
            return passed.next() ?? .failure(.emptyAppend(unit.first?.stream ?? StreamName(unchecked: "notes-none")))
        }
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
