import CumulusDomain
import CumulusLog
import Testing

@testable import CumulusProjections

@Suite struct UserStateReportTests {
    /// Anna's day: presence before reporting, switch on, a state change, an identical repeat, a call, switch off,
    /// a change while off, switch on again and an identical switch.
    static func annasDay() -> LogBuilder {
        var log = LogBuilder()
        log.append(World.creation(), at: minute(0))
        log.append(World.user(World.anna, "Anna Muster", upn: "anna@contoso.com"), at: minute(1))
        log.append(World.user(World.ben, "Ben Brun", upn: "ben@contoso.com"), at: minute(1))
        log.append(World.presence(World.anna, .available, .available), at: minute(10))
        log.append(World.privacy(reporting: true), at: minute(20))
        log.append(World.state(World.anna, "Break", profile: "Sales"), at: minute(30))
        log.append(World.state(World.anna, "Break", profile: "Sales"), at: minute(35))
        log.append(World.presence(World.anna, .busy, .inACall), at: minute(40))
        log.append(World.privacy(reporting: false), at: minute(50))
        log.append(World.presence(World.anna, .available, .available), at: minute(55))
        log.append(World.privacy(reporting: true), at: minute(60))
        log.append(World.privacy(reporting: true), at: minute(70))
        return log
    }

    struct Expected: Equatable {
        var state: String?
        var profile: String?
        var availability: Availability?
        var activity: Activity?
        var start: Double
        var end: Double?
        var duration: Double?
    }

    static func simplified(_ rows: [UserStateReportRow]) -> [Expected] {
        rows.map {
            Expected(
                state: $0.userState?.name, profile: $0.responsibilityProfile, availability: $0.availability,
                activity: $0.activity, start: Double($0.start.microsecondsSinceEpoch - base) / 60_000_000,
                end: $0.end.map { Double($0.microsecondsSinceEpoch - base) / 60_000_000 }, duration: $0.durationSeconds)
        }
    }

    @Test func rowsFollowTheReportingSwitchAndIgnoreIdenticalRepeats() throws {
        let report = try #require(try Self.annasDay().rebuild().projection(UserStateReportProjection.self))
        let rows = report.rows(user: World.anna)
        #expect(
            Self.simplified(rows) == [
                Expected(availability: .available, activity: .available, start: 20, end: 30, duration: 600),
                Expected(
                    state: "Break", profile: "Sales", availability: .available, activity: .available, start: 30,
                    end: 40, duration: 600),
                Expected(
                    state: "Break", profile: "Sales", availability: .busy, activity: .inACall, start: 40, end: 50,
                    duration: 600),
                Expected(
                    state: "Break", profile: "Sales", availability: .available, activity: .available, start: 60,
                    end: nil, duration: nil),
            ])
        #expect(rows.allSatisfy { $0.userName == "Anna Muster" && $0.ouName == "Sales" && $0.user == World.anna })
        // Ben has nothing known: his rows are null in every value, and cover all the time reporting was on.
        #expect(
            Self.simplified(report.rows(user: World.ben)) == [
                Expected(start: 20, end: 50, duration: 1800), Expected(start: 60, end: nil, duration: nil),
            ])
        #expect(report.rows(tenant: World.tenant, from: timestamp(45), to: timestamp(61)).count == 4)
        #expect(
            report.rows(tenant: World.tenant).map(\.userName) == Array(repeating: "Anna Muster", count: 4)
                + Array(repeating: "Ben Brun", count: 2))
    }

    @Test func removingAUserClosesItsOpenRow() throws {
        var log = Self.annasDay()
        log.append(.userRemoved(UserRemoved(user: World.anna)), at: minute(80))
        let report = try #require(try log.rebuild().projection(UserStateReportProjection.self))
        let last = try #require(report.rows(user: World.anna).last)
        #expect(last.end == timestamp(80))
        #expect(report.rows(user: World.anna).count == 4)
    }

    @Test func aLateSwitchAndALateChangeGiveTheInOrderRows() throws {
        let inOrder = Self.annasDay()
        var late = LogBuilder()
        // Same facts; the first switch-on and the call arrive last.
        let reordered = inOrder.events.enumerated().sorted { lhs, rhs in
            let lateIndices: Set<Int> = [10, 13]
            let lhsLate = lateIndices.contains(lhs.offset)
            let rhsLate = lateIndices.contains(rhs.offset)
            return lhsLate != rhsLate ? !lhsLate : lhs.offset < rhs.offset
        }
        for (_, event) in reordered {
            let decoded = try DomainEvent.decode(
                type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
            late.append(decoded, at: event.occurredAt.microsecondsSinceEpoch)
        }
        #expect(late.events.map(\.type) != inOrder.events.map(\.type))
        let expected = try #require(try inOrder.rebuild().projection(UserStateReportProjection.self))
        let actual = try #require(try late.rebuild().projection(UserStateReportProjection.self))
        #expect(actual.rows() == expected.rows())
    }
}

@Suite struct TimeInStateTests {
    @Test func sumsSecondsPerUserStateAndAvailabilityInAWindow() throws {
        let set = try UserStateReportTests.annasDay().rebuild()
        let projection = try #require(set.projection(TimeInStateProjection.self))
        let summary = try #require(projection.summary(of: World.anna, from: timestamp(0), to: timestamp(60)))
        #expect(summary.secondsPerAvailability == ["Available": 2100, "Busy": 900])
        #expect(summary.secondsPerUserState == ["Break": 1800])
        let narrow = try #require(projection.summary(of: World.anna, from: timestamp(32), to: timestamp(45)))
        #expect(narrow.secondsPerAvailability == ["Available": 480, "Busy": 300])
        #expect(narrow.secondsPerUserState == ["Break": 780])
        // A window reaching past `until` (the as-of instant or now) counts up to `until` and still names itself.
        let ahead = try #require(
            projection.summary(of: World.anna, from: timestamp(0), to: timestamp(100_000), until: timestamp(60)))
        #expect(ahead.secondsPerAvailability == summary.secondsPerAvailability)
        #expect(ahead.secondsPerUserState == summary.secondsPerUserState)
        #expect(ahead.from == timestamp(0) && ahead.to == timestamp(100_000))
        let ahead2 = projection.summaries(
            tenant: World.tenant, from: timestamp(0), to: timestamp(100_000), until: timestamp(60))
        #expect(ahead2.first { $0.user == World.anna }?.secondsPerAvailability == summary.secondsPerAvailability)
    }

    @Test func snapshotGivesStateSinceAndElapsed() throws {
        let projection = try #require(
            try UserStateReportTests.annasDay().rebuild().projection(TimeInStateProjection.self))
        let now = try #require(projection.snapshot(of: World.anna, at: timestamp(65)))
        #expect(now.state.userState?.name == "Break")
        #expect(now.userStateSince == timestamp(30))
        #expect(now.userStateElapsedSeconds == 2100)
        #expect(now.presenceSince == timestamp(55))
        #expect(now.presenceElapsedSeconds == 600)
        let earlier = try #require(projection.snapshot(of: World.anna, at: timestamp(45)))
        #expect(earlier.state.availability == .busy)
        #expect(earlier.presenceSince == timestamp(40))
    }

    @Test func refusesWhileTheTenantSwitchIsOff() throws {
        var log = UserStateReportTests.annasDay()
        log.append(World.privacy(reporting: true, timeInState: false), at: minute(90))
        let projection = try #require(try log.rebuild().projection(TimeInStateProjection.self))
        #expect(!projection.isShown(for: World.tenant))
        #expect(throws: TimeInStateNotShown(tenant: World.tenant)) { try projection.checkShown(for: World.tenant) }
        #expect(TimeInStateNotShown(tenant: World.tenant).description.contains("showTimeInState"))
    }
}
