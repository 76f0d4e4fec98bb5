import CumulusDomain
import CumulusLog
import Testing

@testable import CumulusProjections

@Suite struct CompactionTests {
    /// Three days of a noisy feed for one agent: a presence every five minutes, mostly repeats.
    static func noisyFeed(seed: UInt64) -> (inOrder: LogBuilder, late: LogBuilder, factCount: Int) {
        var random = SplitMix64(seed: seed)
        var facts: [(DomainEvent, Int64)] = []
        var presence = (Availability.available, Activity.available)
        for step in 0..<(3 * 24 * 12) {
            if Int.random(in: 0..<10, using: &random) == 0 {
                presence =
                    [(.available, .available), (.busy, .inACall), (.away, .away)].randomElement(using: &random)
                    ?? presence
            }
            facts.append((World.presence(World.anna, presence.0, presence.1), minute(Double(step) * 5 + 0.5)))
            if step % 36 == 0 {
                facts.append(
                    (World.state(World.anna, step % 72 == 0 ? "Available" : "Break"), minute(Double(step) * 5 + 1)))
            }
        }
        var inOrder = LogBuilder()
        var late = LogBuilder()
        for log in [0, 1] {
            var builder = LogBuilder()
            builder.append(World.creation(), at: minute(0))
            builder.append(World.user(World.anna, "Anna Muster", upn: "anna@contoso.com"), at: minute(0))
            builder.append(World.privacy(reporting: true), at: minute(0.2))
            if log == 0 { inOrder = builder } else { late = builder }
        }
        for fact in facts { inOrder.append(fact.0, at: fact.1) }
        let arrivals = facts.map { fact in
            (fact, fact.1 + (Bool.random(using: &random) ? Int64.random(in: 0..<3_600_000_000, using: &random) : 0))
        }.sorted { $0.1 < $1.1 }
        for (fact, _) in arrivals { late.append(fact.0, at: fact.1) }
        return (inOrder, late, facts.count)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func dropsOldRepeatsWithoutChangingAnyView(seed: UInt64) throws {
        let feed = Self.noisyFeed(seed: seed)
        let inOrder = try feed.inOrder.rebuild()
        let late = try feed.late.rebuild()
        #expect(try UserViews(late, users: [World.anna]) == (try UserViews(inOrder, users: [World.anna])))
        let timeInState = try #require(late.projection(TimeInStateProjection.self))
        let kept = try #require(timeInState.timeline(of: World.anna)?.entries.count)
        #expect(kept < feed.factCount / 2, "kept \(kept) of \(feed.factCount)")
        let window = (timestamp(0), timestamp(3 * 24 * 60))
        #expect(
            timeInState.summary(of: World.anna, from: window.0, to: window.1)
                == inOrder.projection(TimeInStateProjection.self)?.summary(of: World.anna, from: window.0, to: window.1)
        )
    }
}
