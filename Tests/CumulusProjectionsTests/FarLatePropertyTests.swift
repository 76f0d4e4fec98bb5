import CumulusDomain
import CumulusLog
import Testing

@testable import CumulusProjections

/// Feeds over 40 days with many identical repeats, some facts delivered up to 30 days late: far beyond the
/// in-memory history's horizon (24 h), so the projections must rebuild those users from their streams.
struct FarLateFeed {
    var users: [UserID]
    var inOrder: LogBuilder
    var late: LogBuilder
    var lateBeyondHorizon: Int

    static let day: Int64 = 86_400_000_000

    static func make(seed: UInt64) -> FarLateFeed {
        var random = SplitMix64(seed: seed)
        let users = (0..<3).map { UserID(id(300 + $0)) }
        var setup: [(DomainEvent, Int64)] = World.creation().map { ($0, minute(0)) }
        setup.append((World.privacy(reporting: true, timeInState: true), minute(0.5)))
        for (index, user) in users.enumerated() {
            for event in World.user(user, "User \(index)", upn: "user\(index)@contoso.com") {
                setup.append((event, minute(1)))
            }
        }
        let presences: [(Availability, Activity)] = [(.available, .available), (.busy, .inACall), (.away, .away)]
        let states = ["Available", "Break"]
        var facts: [(event: DomainEvent, occurredAt: Int64)] = []
        var used = Set<Int64>()
        for user in users {
            var presence = presences[0]
            var state = states[0]
            for _ in 0..<Int.random(in: 80...140, using: &random) {
                var at: Int64
                repeat {
                    at = minute(10) + Int64.random(in: 0..<(40 * 86_400), using: &random) * 1_000_000
                } while !used.insert(at).inserted
                // Mostly repeats: they are what the in-memory history drops once they are older than its horizon.
                let changes = Int.random(in: 0..<3, using: &random) == 0
                switch Int.random(in: 0..<5, using: &random) {
                case 0, 1, 2:
                    if changes { presence = presences.randomElement(using: &random) ?? presence }
                    facts.append((World.presence(user, presence.0, presence.1), at))
                case 3:
                    if changes { state = states.randomElement(using: &random) ?? state }
                    facts.append((World.state(user, state, profile: "Sales"), at))
                default:
                    let profile = Bool.random(using: &random) ? "Sales" : "Support"
                    facts.append(
                        (
                            .responsibilityProfileChanged(
                                ResponsibilityProfileChanged(user: user, responsibilityProfile: profile)), at
                        ))
                }
            }
        }
        let ordered = facts.sorted { $0.occurredAt < $1.occurredAt }
        // Arrival: one fact in eight is delayed by up to 30 days; the rest arrive when they happen.
        var beyond = 0
        let arrivals = facts.map { fact -> (DomainEvent, Int64, Int64) in
            let delay =
                Int.random(in: 0..<8, using: &random) == 0 ? Int64.random(in: 0..<(30 * day), using: &random) : 0
            if delay > day { beyond += 1 }
            return (fact.event, fact.occurredAt, fact.occurredAt + delay)
        }.sorted { $0.2 != $1.2 ? $0.2 < $1.2 : $0.1 < $1.1 }
        let (inOrder, late) = LogBuilder.inOrderAndLate(
            setup: setup, ordered: ordered.map { ($0.event, $0.occurredAt) }, arrivals: arrivals.map { ($0.0, $0.1) })
        return FarLateFeed(users: users, inOrder: inOrder, late: late, lateBeyondHorizon: beyond)
    }

    /// Every view a reader sees of these users, as bytes: report rows (CSV and JSON), time in state over
    /// windows and at instants, current state.
    static func views(_ set: ProjectionSet, users: [UserID]) throws -> [String] {
        let report = try #require(set.projection(UserStateReportProjection.self))
        let times = try #require(set.projection(TimeInStateProjection.self))
        let state = try #require(set.projection(CurrentStateProjection.self))
        let table = ReportTable.userStates(report.rows(tenant: World.tenant))
        var views = [table.csv(), table.json()]
        let windows: [(Double, Double)] = [(0, 60 * 24 * 41), (60 * 24 * 3, 60 * 24 * 4), (60 * 24 * 20, 60 * 24 * 27)]
        for (from, to) in windows {
            views.append(
                ReportTable.timeInState(times.summaries(tenant: World.tenant, from: timestamp(from), to: timestamp(to)))
                    .csv())
        }
        for day in stride(from: 1.0, through: 41, by: 5) {
            for user in users {
                let snapshot = times.snapshot(of: user, at: timestamp(day * 60 * 24))
                views.append(
                    "\(String(describing: snapshot?.state)) \(String(describing: snapshot?.userStateSince)) "
                        + "\(String(describing: snapshot?.presenceSince))")
            }
        }
        for user in users {
            let value = state.users[user]
            views.append(
                "\(String(describing: value?.availability)) \(value?.activity.rawValue ?? "") "
                    + "\(value?.userState?.name ?? "") \(value?.responsibilityProfile ?? "")")
        }
        return views
    }
}

@Suite struct FarLatePropertyTests {
    @Test(arguments: Array(UInt64(1)...12))
    func eventsUpToThirtyDaysLateGiveTheInOrderViewsByteForByte(seed: UInt64) throws {
        let feed = FarLateFeed.make(seed: seed)
        #expect(feed.lateBeyondHorizon > 0, "seed \(seed) delivers nothing beyond the horizon")
        let expected = try FarLateFeed.views(try feed.inOrder.rebuild(), users: feed.users)
        let late = try feed.late.rebuild()
        let actual = try FarLateFeed.views(late, users: feed.users)
        #expect(actual.count == expected.count)
        for (index, (lhs, rhs)) in zip(actual, expected).enumerated() {
            #expect(lhs == rhs, "seed \(seed) view \(index)")
        }
        #expect(late.usersNeedingHistory.isEmpty)
        // The segments API (one user's stretches in a window) adds up to the summary's seconds.
        let from = timestamp(60 * 24 * 2)
        let to = timestamp(60 * 24 * 30)
        let lateTimes = try #require(late.projection(TimeInStateProjection.self))
        for user in feed.users {
            let segments = try #require(lateTimes.segments(of: user, from: from, to: to))
            let summary = try #require(lateTimes.summary(of: user, from: from, to: to))
            var perAvailability: [String: Int64] = [:]
            for segment in segments {
                if let availability = segment.state.availability?.rawValue {
                    perAvailability[availability, default: 0] +=
                        segment.end.microsecondsSinceEpoch - segment.start.microsecondsSinceEpoch
                }
            }
            #expect(
                perAvailability.mapValues { Double($0) / 1_000_000 } == summary.secondsPerAvailability, "seed \(seed)")
            #expect(zip(segments, segments.dropFirst()).allSatisfy { $0.end == $1.start && $0.state != $1.state })
        }
        // The history stays bounded: identical repeats older than the horizon were dropped again.
        let times = try #require(late.projection(TimeInStateProjection.self))
        let kept = feed.users.compactMap { times.timeline(of: $0)?.entries.count }.reduce(0, +)
        let facts = feed.late.events.count { $0.type != "UserCreated" && $0.stream.rawValue.hasPrefix("user-") }
        #expect(kept < facts, "seed \(seed): \(kept) entries kept of \(facts) facts")
    }

    /// Without a way to read a user's stream, the projections ask for it rather than guess silently.
    @Test func withoutTheLogTheUsersToRebuildAreNamed() throws {
        let feed = FarLateFeed.make(seed: 3)
        var set = ProjectionSet.standard()
        try set.apply(contentsOf: feed.late.events)
        #expect(!set.usersNeedingHistory.isEmpty)
        // From memory alone the views are wrong (the dropped repeats are missing): this is what the rebuild fixes.
        let expected = try FarLateFeed.views(try feed.inOrder.rebuild(), users: feed.users)
        #expect(try FarLateFeed.views(set, users: feed.users) != expected)
        for user in set.usersNeedingHistory { set.rebuildHistory(of: user, from: feed.late.stream(of: user)) }
        #expect(set.usersNeedingHistory.isEmpty)
        #expect(try FarLateFeed.views(set, users: feed.users) == expected)
    }
}
