import CumulusDomain
import CumulusLog
import Testing

@testable import CumulusProjections

/// The catch-up's pipeline — batches applied by lane threads while the caller decodes the next ones, a few
/// batches in flight — gives exactly what one thread gives, with projections at different positions and an
/// event the domain cannot read in the middle.
@Suite struct PipelinedApplierTests {
    @Test(arguments: Array(1...16) as [UInt64])
    func pipelinedBatchesGiveWhatOneThreadGives(seed: UInt64) throws {
        let feed = GeneratedFeed.make(seed: seed)
        var random = SplitMix64(seed: seed &* 104_729)
        var events = feed.late.events
        let unreadable = Int.random(in: 1..<events.count, using: &random)
        var bad = events[unreadable]
        bad.payload = [0xFF]
        events.insert(bad, at: unreadable)
        for index in events.indices { events[index].position = GlobalPosition(UInt64(index + 1)) }

        var single = ProjectionSet.standard()
        single.lanes = 1
        single.apply(contentsOf: events)
        #expect(single.skipped.unreadable == 1)

        // Two projections resume from a checkpoint at a random split; the others start from 0.
        let split = Int.random(in: 0...events.count, using: &random)
        var first = ProjectionSet.standard()
        first.lanes = 1
        first.apply(contentsOf: events[..<split])
        var piped = ProjectionSet.standard()
        piped.lanes = 2 + Int(seed % 3)
        for checkpoint in first.checkpoints()
        where checkpoint.name == CurrentStateProjection.name || checkpoint.name == TimeInStateProjection.name {
            _ = try piped.restore(checkpoint)
        }
        let pipeline = PipelinedApplier(taking: &piped)
        #expect(piped.projections.isEmpty)
        // Small batches: more than `depth` of them are in flight at once, so the caller waits for the lanes.
        let size = Int.random(in: 1...9, using: &random)
        var batch: [DecodedEvent] = []
        for event in events {
            guard let item = try? DecodedEvent(decoding: event) else {
                pipeline.hand(&batch)
                #expect(batch.isEmpty)
                pipeline.skip(event)
                continue
            }
            batch.append(item)
            if batch.count == size {
                pipeline.hand(&batch)
                #expect(batch.isEmpty)
            }
        }
        pipeline.hand(&batch)
        piped = pipeline.finish()

        #expect(piped.positions == single.positions)
        #expect(piped.skipped.unreadable == 1)
        #expect(try UserViews(piped, users: feed.users) == (try UserViews(single, users: feed.users)), "seed \(seed)")
        for (lhs, rhs) in zip(piped.projections, single.projections) {
            let identical = lhs.encodeState() == rhs.encodeState()
            #expect(identical, "\(lhs.name) seed \(seed)")
        }
        // The three projections that started from 0 applied every batch, and their lanes measured it.
        #expect(piped.costs.filter { $0 > 0 }.count >= 3)
    }
}

/// The lanes are split again by the costs measured so far: a projection that is cheap on a log's first events and
/// costly on the rest ends up on a lane of its own.
@Suite struct PipelinedApplierSplitTests {
    /// Spins for `milliseconds` on each of its first `busyBatches` batches (`early`) or on every later one.
    struct Work<Phase: WorkPhase>: Projection {
        static var name: String { Phase.name }
        static var codeVersion: UInt32 { 1 }
        var batches = 0
        init() {}
        init(decodingState bytes: [UInt8]) throws(ProjectionStateError) {}
        mutating func apply(_ event: RecordedEvent, decoded: DomainEvent) {}
        mutating func apply(batch: ArraySlice<DecodedEvent>) {
            batches += 1
            guard Phase.isBusy(batch: batches) else { return }
            let until = ContinuousClock.now + .milliseconds(2)
            while ContinuousClock.now < until {}
        }
        func encodeState() -> [UInt8] { [] }
    }
    protocol WorkPhase: Sendable {
        static var name: String { get }
        static func isBusy(batch: Int) -> Bool
    }
    enum Early: WorkPhase {
        static let name = "early"
        static func isBusy(batch: Int) -> Bool { batch <= 10 }
    }
    enum Late: WorkPhase {
        static let name = "late"
        static func isBusy(batch: Int) -> Bool { batch > 10 }
    }
    enum Idle: WorkPhase {
        static let name = "idle"
        static func isBusy(batch: Int) -> Bool { false }
    }

    @Test func aProjectionCostlyLaterGetsALaneOfItsOwn() throws {
        var set = ProjectionSet([Work<Early>(), Work<Late>(), Work<Idle>()])
        set.lanes = 2
        let events = GeneratedFeed.make(seed: 7).late.events.compactMap { try? DecodedEvent(decoding: $0) }
        #expect(events.count >= 50)
        let pipeline = PipelinedApplier(taking: &set)
        var lanesAtStart: [[Int]] = []
        // 2 batches on this thread measure the first costs (only `early` works), then the lanes start; they are
        // split again after 8 and 32 batches handed to them, by when `late` has worked 24 batches to `early`'s 10.
        for index in 0..<50 {
            var batch = [events[index]]
            pipeline.hand(&batch)
            if index == 2 { lanesAtStart = pipeline.lanes }
        }
        #expect(lanesAtStart.contains([0]), "\(lanesAtStart)")
        #expect(pipeline.lanes.contains([1]), "\(pipeline.lanes)")
        set = pipeline.finish()
        #expect(set.costs[1] > set.costs[0])
    }
}
