import CumulusDomain
import CumulusLog
import Testing

@testable import CumulusProjections

/// A generated feed: the same facts in occurrence order and in a noisy arrival order.
struct GeneratedFeed {
    var users: [UserID]
    var inOrder: LogBuilder
    var late: LogBuilder
    var horizon: Int64

    static func make(seed: UInt64) -> GeneratedFeed {
        var random = SplitMix64(seed: seed)
        let userCount = Int.random(in: 2...5, using: &random)
        let users = (0..<userCount).map { UserID(id(100 + $0)) }
        var setup: [(DomainEvent, Int64)] = World.creation().map { ($0, minute(0)) }
        for (index, user) in users.enumerated() {
            for event in World.user(user, "User \(index)", upn: "user\(index)@contoso.com") {
                setup.append((event, minute(1)))
            }
        }
        var facts: [(event: DomainEvent, occurredAt: Int64)] = []
        let presences: [(Availability, Activity)] = [
            (.available, .available), (.busy, .inACall), (.busy, .inAMeeting), (.away, .away), (.offline, .offWork),
        ]
        let states = ["Available", "Break", "Backoffice", "ACW"]
        var used = Set<Int64>()
        func uniqueTime(_ random: inout SplitMix64) -> Int64 {
            while true {
                // Whole seconds within three hours, so ties on occurredAt stay out of the comparison.
                let candidate = minute(10) + Int64.random(in: 0..<10_800, using: &random) * 1_000_000
                if used.insert(candidate).inserted { return candidate }
            }
        }
        for user in users {
            var lastPresence = presences[0]
            var lastState = states[0]
            for _ in 0..<Int.random(in: 10...40, using: &random) {
                let repeatLast = Int.random(in: 0..<4, using: &random) == 0
                if Bool.random(using: &random) {
                    if !repeatLast { lastPresence = presences.randomElement(using: &random) ?? lastPresence }
                    facts.append((World.presence(user, lastPresence.0, lastPresence.1), uniqueTime(&random)))
                } else {
                    if !repeatLast { lastState = states.randomElement(using: &random) ?? lastState }
                    let profile = Bool.random(using: &random) ? "Sales" : nil
                    facts.append((World.state(user, lastState, profile: profile), uniqueTime(&random)))
                }
            }
        }
        for _ in 0..<Int.random(in: 0...5, using: &random) {
            facts.append(
                (World.privacy(reporting: Bool.random(using: &random), timeInState: true), uniqueTime(&random)))
        }
        var removal: (DomainEvent, Int64)?
        if Bool.random(using: &random), let removed = users.first {
            removal = (.userRemoved(UserRemoved(user: removed)), minute(10) + 10_801_000_000)
        }
        let horizon = Int64(30 * 60_000_000)
        let ordered = facts.sorted { $0.occurredAt < $1.occurredAt }
        // Arrival: a third of the facts are delayed by up to 30 minutes; the rest arrive when they happen.
        let arrivals = facts.map { fact -> (DomainEvent, Int64, Int64) in
            let delay = Int.random(in: 0..<3, using: &random) == 0 ? Int64.random(in: 0..<horizon, using: &random) : 0
            return (fact.event, fact.occurredAt, fact.occurredAt + delay)
        }.sorted { $0.2 != $1.2 ? $0.2 < $1.2 : $0.1 < $1.1 }
        let (inOrder, late) = LogBuilder.inOrderAndLate(
            setup: setup, ordered: ordered.map { ($0.event, $0.occurredAt) }, arrivals: arrivals.map { ($0.0, $0.1) },
            tail: removal.map { [$0] } ?? [])
        return GeneratedFeed(users: users, inOrder: inOrder, late: late, horizon: horizon)
    }
}

/// Everything a reader can see of the user-state views, in a comparable form.
struct UserViews: Equatable {
    var rows: [UserStateReportRow]
    var summaries: [TimeInStateSummary]
    var snapshots: [TimeInStateSnapshot]
    var current: [String]
    var routable: Int

    init(_ set: ProjectionSet, users: [UserID]) throws {
        let report = try #require(set.projection(UserStateReportProjection.self))
        let timeInState = try #require(set.projection(TimeInStateProjection.self))
        let state = try #require(set.projection(CurrentStateProjection.self))
        rows = report.rows()
        let windows: [(Double, Double)] = [(0, 400), (30, 90), (95, 96), (100, 250)]
        summaries = windows.flatMap { window in
            timeInState.summaries(tenant: World.tenant, from: timestamp(window.0), to: timestamp(window.1))
        }
        snapshots = [20.0, 60, 120, 200, 400].flatMap { instant in
            users.compactMap { timeInState.snapshot(of: $0, at: timestamp(instant)) }
        }
        current = users.map { user in
            let value = state.users[user]
            return "\(String(describing: value?.availability)) \(value?.activity.rawValue ?? "") "
                + "\(value?.userState?.name ?? "") \(value?.responsibilityProfile ?? "")"
        }
        routable = state.routableCount(of: World.hotline)
    }
}

@Suite struct LateArrivalPropertyTests {
    static let seeds: [UInt64] = Array(1...40)

    @Test(arguments: seeds)
    func lateDeliveryGivesTheInOrderViews(seed: UInt64) throws {
        let feed = GeneratedFeed.make(seed: seed)
        #expect(
            feed.late.events.map(\.occurredAt) != feed.inOrder.events.map(\.occurredAt) || feed.late.events.count < 20)
        let expected = try UserViews(try feed.inOrder.rebuild(), users: feed.users)
        let actual = try UserViews(try feed.late.rebuild(), users: feed.users)
        #expect(actual.rows == expected.rows, "seed \(seed)")
        #expect(actual.summaries == expected.summaries, "seed \(seed)")
        #expect(actual.snapshots == expected.snapshots, "seed \(seed)")
        #expect(actual.current == expected.current, "seed \(seed)")
    }

    @Test(arguments: seeds)
    func catchUpFromACheckpointEqualsAFullRebuild(seed: UInt64) throws {
        let feed = GeneratedFeed.make(seed: seed)
        var random = SplitMix64(seed: seed &* 7919)
        let events = feed.late.events
        let full = try feed.late.rebuild()
        let inOrder = try UserViews(try feed.inOrder.rebuild(), users: feed.users)
        for _ in 0..<3 {
            let split = Int.random(in: 0...events.count, using: &random)
            var first = ProjectionSet.standard()
            try first.apply(contentsOf: events[..<split])
            var resumed = ProjectionSet.standard()
            for checkpoint in first.checkpoints() {
                #expect(try resumed.restore(checkpoint) == .restored(position: GlobalPosition(UInt64(split))))
            }
            #expect(resumed.resumePosition == GlobalPosition(UInt64(split)))
            try resumed.apply(contentsOf: events[split...])
            let resumedViews = try UserViews(resumed, users: feed.users)
            #expect(resumedViews == (try UserViews(full, users: feed.users)), "seed \(seed) split \(split)")
            #expect(resumedViews == inOrder, "seed \(seed) split \(split)")
            for (lhs, rhs) in zip(resumed.projections, full.projections) {
                #expect(lhs.encodeState() == rhs.encodeState(), "\(lhs.name) seed \(seed) split \(split)")
            }
            let resumedAudit = try #require(resumed.projection(AuditProjection.self))
            let fullAudit = try #require(full.projection(AuditProjection.self))
            #expect(resumedAudit.entries(for: .tenant(World.tenant)) == fullAudit.entries(for: .tenant(World.tenant)))
        }
    }

    /// The batch path (users looked up for a whole batch first, envelopes read in place) gives exactly what
    /// one event at a time gives, including for users created inside a batch and batches cut anywhere.
    @Test(arguments: seeds)
    func batchesGiveWhatOneEventAtATimeGives(seed: UInt64) throws {
        let feed = GeneratedFeed.make(seed: seed)
        let events = feed.late.events
        var single = ProjectionSet.standard()
        for event in events { try single.apply(event) }
        var random = SplitMix64(seed: seed &* 104_729)
        var batched = ProjectionSet.standard()
        var start = 0
        while start < events.count {
            let end = min(events.count, start + Int.random(in: 1...40, using: &random))
            batched.apply(batch: try events[start..<end].map { try DecodedEvent(decoding: $0) })
            start = end
        }
        #expect(try UserViews(batched, users: feed.users) == (try UserViews(single, users: feed.users)), "seed \(seed)")
        for (lhs, rhs) in zip(batched.projections, single.projections) {
            let identical = lhs.encodeState() == rhs.encodeState()
            #expect(identical, "\(lhs.name) seed \(seed)")
        }
        #expect(batched.position == single.position)
    }

    /// Spread over several threads (each projection on one thread per batch), a rebuild gives exactly what one
    /// thread gives.
    @Test(arguments: seeds)
    func lanesGiveWhatOneThreadGives(seed: UInt64) throws {
        let feed = GeneratedFeed.make(seed: seed)
        let events = feed.late.events
        var single = ProjectionSet.standard()
        single.lanes = 1
        try single.apply(contentsOf: events)
        var spread = ProjectionSet.standard()
        spread.lanes = 3
        spread.parallelMinimum = 8  // the generated feeds are small; every batch below goes through the lanes
        let cut = events.count / 2
        spread.apply(batch: try events[..<cut].map { try DecodedEvent(decoding: $0) })
        spread.apply(batch: try events[cut...].map { try DecodedEvent(decoding: $0) })
        #expect(try UserViews(spread, users: feed.users) == (try UserViews(single, users: feed.users)), "seed \(seed)")
        for (lhs, rhs) in zip(spread.projections, single.projections) {
            let identical = lhs.encodeState() == rhs.encodeState()
            #expect(identical, "\(lhs.name) seed \(seed)")
        }
        #expect(spread.positions == single.positions)
        #expect(spread.costs.allSatisfy { $0 > 0 })
    }
}
