import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// The kept write model: a checkpoint plus the events after it gives exactly the model folded from position 0,
/// and a checkpoint that cannot be used (another code version, damaged bytes) is ignored, saying why.
@Suite("Write-model checkpoints")
struct WriteModelCheckpointTests {
    /// The model folded from position 0 through a handler (as `cumulus import` did before checkpoints).
    static func foldedFromZero(_ store: any EventStore) async throws -> WriteModel {
        let handler = CommandHandler(store: store)
        try await handler.catchUp()
        return await handler.currentModel
    }

    @Test func aCheckpointPlusCatchUpIsTheFoldFromZeroAtRandomSplitPoints() async throws {
        let log = try await SampleLog.stored()
        let events = try await log.store.readAll(after: .start, maximumCount: .max)
        #expect(events.count > 500)
        let full = try await Self.foldedFromZero(log.store)
        #expect(full.position == events.last?.position)
        var random = SplitMix64(seed: 9)
        let splits =
            [0, 1, events.count - 1, events.count] + (0..<5).map { _ in Int(random.next() % UInt64(events.count)) }
        for split in splits {
            // The model of the first `split` events, saved as the log's checkpoint…
            var partial = WriteModel()
            for event in events.prefix(split) { try partial.apply(event) }
            try await log.store.save(partial.checkpoint())
            // …restored by a new handler, which catches up with the rest.
            let handler = CommandHandler(store: log.store)
            let outcome = try await handler.restoreCheckpoint()
            #expect(outcome == .restored(position: partial.position), "split \(split)")
            #expect(await handler.currentModel == partial, "split \(split): the checkpoint round-trips")
            try await handler.catchUp()
            let resumed = await handler.currentModel
            #expect(resumed == full, "split \(split)")
            #expect(resumed.encodeState() == full.encodeState(), "split \(split)")
        }
    }

    @Test func aRestoredModelDecidesAsTheFoldedOne() async throws {
        let log = try await SampleLog.stored()
        let full = try await Self.foldedFromZero(log.store)
        try await log.store.save(full.checkpoint())
        // An operational tenant with a live user, chosen the same way on every run (dictionary order is not).
        let candidates = full.tenants.values.compactMap { state -> (TenantID, UserID)? in
            guard let tenant = state.tenant, tenant.isOperational,
                let user = state.users.values.filter({ $0.lifecycle == .live }).map(\.id).min(by: {
                    $0.description < $1.description
                })
            else { return nil }
            return (tenant.id, user)
        }
        let (tenant, user) = try #require(candidates.min { $0.0.description < $1.0.description })
        let request = CommandRequest(
            command: .recordPresence(user: user, availability: .busy, activity: .inACall),
            actor: .presenceFeed(tenant), occurredAt: 1_900_000_000_000_000)
        let restored = CommandHandler(store: log.store)
        #expect(try await restored.restoreCheckpoint() == .restored(position: full.position))
        let outcome = try await restored.handle(request)
        #expect(outcome.eventCount == 1)
        try await restored.saveCheckpoint()
        #expect(try await Self.foldedFromZero(log.store) == restored.currentModel)
        let saved = try #require(try await log.store.checkpoint(named: WriteModel.checkpointName))
        #expect(saved.position == GlobalPosition(full.position.rawValue + 1))
    }

    @Test func aCheckpointOfAnotherCodeVersionIsIgnoredAndTheModelRebuilt() async throws {
        let log = try await SampleLog.stored()
        let full = try await Self.foldedFromZero(log.store)
        var checkpoint = full.checkpoint()
        checkpoint.state[0] = UInt8(WriteModel.codeVersion + 1)
        try await log.store.save(checkpoint)
        let handler = CommandHandler(store: log.store)
        let outcome = try await handler.restoreCheckpoint()
        #expect(
            outcome == .unknownCodeVersion(stored: UInt64(WriteModel.codeVersion + 1), current: WriteModel.codeVersion))
        #expect(outcome.wasDiscarded)
        #expect(outcome.description.contains("code version \(WriteModel.codeVersion + 1)"))
        #expect(await handler.currentModel.position == .start)
        try await handler.catchUp()
        #expect(await handler.currentModel == full)
    }

    @Test func aDamagedCheckpointIsIgnoredAndTheModelRebuilt() async throws {
        let log = try await SampleLog.stored()
        let full = try await Self.foldedFromZero(log.store)
        let intact = full.checkpoint()
        var random = SplitMix64(seed: 4)
        // A flipped bit anywhere after the code version, a truncation, trailing garbage.
        var damaged: [Checkpoint] = []
        for _ in 0..<8 {
            var copy = intact
            let index = 1 + Int(random.next() % UInt64(copy.state.count - 1))
            copy.state[index] ^= 1 << UInt8(random.next() % 8)
            damaged.append(copy)
        }
        var truncated = intact
        truncated.state.removeLast(truncated.state.count / 2)
        var longer = intact
        longer.state.append(0)
        for checkpoint in damaged + [truncated, longer] {
            try await log.store.save(checkpoint)
            let handler = CommandHandler(store: log.store)
            let outcome = try await handler.restoreCheckpoint()
            guard case .damaged(let reason) = outcome else {
                Issue.record("damaged bytes were restored: \(outcome)")
                continue
            }
            #expect(!reason.isEmpty)
            #expect(outcome.description.contains("damaged"))
            #expect(await handler.currentModel.position == .start)
            try await handler.catchUp()
            #expect(await handler.currentModel == full)
        }
    }

    @Test func noCheckpointMeansFoldingFromZero() async throws {
        let log = try await SampleLog.stored()
        let handler = CommandHandler(store: log.store)
        #expect(try await handler.restoreCheckpoint() == .noCheckpoint)
        #expect(!WriteModel.Restore.noCheckpoint.wasDiscarded)
    }
}
