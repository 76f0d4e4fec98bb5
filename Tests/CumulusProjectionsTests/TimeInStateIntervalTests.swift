import CumulusDomain
import CumulusLog
import Foundation
import Testing

@testable import CumulusProjections

@Suite struct TimeInStateIntervalTests {
    static let zurich = TimeZone(identifier: "Europe/Zurich")!

    /// Microseconds of a local wall-clock time in `zone`.
    static func local(_ text: String, _ zone: TimeZone) -> Timestamp {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
        return Timestamp(formatter.date(from: text)!)
    }

    @Test(arguments: [
        ("2026-03-29", ReportInterval.hour, 23, 23.0), ("2026-10-25", .hour, 25, 25.0),
        ("2026-03-29", .minutes15, 92, 23.0), ("2026-10-25", .minutes30, 50, 25.0),
        ("2026-03-29", .day, 1, 23.0), ("2026-10-25", .day, 1, 25.0), ("2026-11-23", .hour, 24, 24.0),
    ])
    func dstDaysHave23Or25Hours(day: String, interval: ReportInterval, count: Int, hours: Double) {
        let from = Self.local("\(day)T00:00", Self.zurich)
        let to = from.adding(seconds: 1)
        let cuts = interval.intervals(from: from, to: Self.local("\(day)T23:59", Self.zurich), in: Self.zurich)
        #expect(cuts.count == count)
        #expect(cuts.first?.start == from)
        let total = cuts.reduce(0.0) { $0 + $1.end.seconds(since: $1.start) }
        #expect(total == hours * 3_600)
        // Contiguous: each interval starts where the previous ended.
        for index in cuts.indices.dropFirst() { #expect(cuts[index].start == cuts[index - 1].end) }
        // A window of one second still gives the whole interval that holds it.
        #expect(interval.intervals(from: from, to: to, in: Self.zurich).count == 1)
    }

    @Test func intervalsAlignToTheLocalClockAtHalfHourOffsets() throws {
        let kolkata = try #require(TimeZone(identifier: "Asia/Kolkata"))
        let from = Self.local("2026-11-23T10:10", kolkata)
        let cuts = ReportInterval.hour.intervals(from: from, to: from.adding(seconds: 7_200), in: kolkata)
        #expect(
            cuts.map(\.start) == [
                Self.local("2026-11-23T10:00", kolkata), Self.local("2026-11-23T11:00", kolkata),
                Self.local("2026-11-23T12:00", kolkata),
            ])
    }

    /// One user, one state for the whole of a DST day: its rows add up to 23 hours, split at the local hours.
    @Test(arguments: [("2026-03-29", 23), ("2026-10-25", 25)])
    func aUserInOneStateFillsTheDstDay(day: String, hours: Int) throws {
        var log = LogBuilder()
        let dayStart = Self.local("\(day)T00:00", Self.zurich).microsecondsSinceEpoch
        log.append(World.creation(), at: dayStart - 86_400_000_000)
        log.append(World.user(World.anna, "Anna", upn: "anna@contoso.com"), at: dayStart - 86_400_000_000)
        log.append(World.state(World.anna, "Available"), at: dayStart - 3_600_000_000)
        log.append(World.presence(World.anna, .available, .available), at: dayStart + 1_800_000_000)
        let set = try log.rebuild()
        let view = try #require(set.projection(TimeInStateProjection.self))
        let from = Timestamp(microsecondsSinceEpoch: dayStart)
        let until = from.adding(seconds: 3 * 86_400)
        let hourly = view.intervals(
            of: World.anna, from: from, to: from.adding(seconds: 1), until: until, interval: .day,
            timeZone: Self.zurich)
        #expect(hourly.reduce(0) { $0 + $1.seconds } == Double(hours * 3_600))
        #expect(hourly.map(\.availability) == [nil, "Available"])
        #expect(hourly.first?.seconds == 1_800)
        let rows = view.intervals(
            of: World.anna, from: from, to: from.adding(seconds: Double(hours) * 3_600 - 1), until: until,
            interval: .hour, timeZone: Self.zurich)
        #expect(Set(rows.map(\.intervalStart)).count == hours)
        #expect(rows.reduce(0) { $0 + $1.seconds } == Double(hours * 3_600))
        #expect(rows.first?.intervalStartLocal.hasPrefix("\(day)T00:00:00+0") == true)
    }

    /// A window far wider than the user's life costs only the intervals of the life (a request for the years
    /// 1990 to 2100 used to build 3.9 million quarter hours per user before looking at any), and the intervals
    /// kept are exactly those of the whole window that meet the life, also where the life and the window meet
    /// only inside one widened interval.
    @Test func intervalsAreCutOnlyWhereTheUserLived() throws {
        var log = LogBuilder()
        let created = minute(7)  // 08:07 UTC; in Zurich 09:07
        log.append(World.creation(), at: created)
        log.append(World.user(World.anna, "Anna", upn: "anna@contoso.com"), at: created)
        log.append(World.state(World.anna, "Available"), at: minute(20))
        let removed = minute(2 * 1_440 + 50)  // two days later, 08:50 UTC
        log.append(.userRemoved(UserRemoved(user: World.anna)), at: removed)
        let set = try log.rebuild()
        let view = try #require(set.projection(TimeInStateProjection.self))
        let until = timestamp(10 * 1_440)
        func year(_ value: Int) -> Timestamp {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(secondsFromGMT: 0)!
            return Timestamp(calendar.date(from: DateComponents(year: value, month: 1, day: 1))!)
        }
        let wide = view.intervalCuts(
            of: World.anna, from: year(1990), to: year(2100), until: until, interval: .minutes15, timeZone: Self.zurich)
        // 08:00–08:50 two days later is 2 days and 4 quarter hours after 08:00, the first one's start.
        #expect(wide.count == 2 * 96 + 4)
        #expect(wide.first?.start == timestamp(0))
        #expect(wide.last?.end == timestamp(2 * 1_440 + 60))
        let wideRows = view.intervals(
            of: World.anna, from: year(1990), to: year(2100), until: until, interval: .minutes15, timeZone: Self.zurich)
        #expect(wideRows.reduce(0) { $0 + $1.seconds } == Double(removed - created) / 1_000_000)

        // Windows around both ends of the life, in minutes from 08:00 UTC; each against the whole window's
        // intervals filtered to those that meet the life.
        let windows: [(Double, Double)] = [
            (-600, 30), (-600, 7), (-600, 6), (-30, 5), (8, 9), (0, 14), (10, 11), (2_930, 2_940), (2_925, 2_926),
            (2_930, 4_000), (2_940, 3_000), (2_950, 2_951), (-5_000, 9_000), (1_000, 1_000.5),
        ]
        for interval in ReportInterval.allCases {
            for (from, to) in windows {
                let reference = interval.intervals(from: timestamp(from), to: timestamp(to), in: Self.zurich).filter {
                    $0.end.microsecondsSinceEpoch > created && $0.start.microsecondsSinceEpoch < removed
                }
                let cuts = view.intervalCuts(
                    of: World.anna, from: timestamp(from), to: timestamp(to), until: until, interval: interval,
                    timeZone: Self.zurich)
                #expect(
                    cuts.map(\.start) == reference.map(\.start) && cuts.map(\.end) == reference.map(\.end),
                    "\(interval.rawValue) [\(from), \(to))")
                // The count a reader checks before building rows is the number of those intervals.
                let count = view.intervalCount(
                    tenant: World.tenant, from: timestamp(from), to: timestamp(to), until: until, interval: interval,
                    timeZone: Self.zurich)
                #expect(count == reference.count, "\(interval.rawValue) [\(from), \(to))")
            }
        }
    }

    /// The feed's reporting switches removed and reporting turned on from the start, positions renumbered.
    static func reportingAlwaysOn(_ feed: GeneratedFeed) -> [RecordedEvent] {
        var switchOn = LogBuilder()
        switchOn.append(World.privacy(reporting: true, timeInState: true), at: minute(0))
        var events = feed.late.events.filter { $0.type != DataPrivacySettingsChanged.typeName }
        events.insert(contentsOf: switchOn.events, at: World.creation().count)
        return events.enumerated().map { index, event in
            var renumbered = event
            renumbered.position = GlobalPosition(UInt64(index + 1))
            return renumbered
        }
    }

    /// On generated noisy feeds (late and repeated events): per user, interval, user state and availability, the
    /// seconds equal the report rows' overlap with the interval, and each interval adds up to its length clipped
    /// to the user's life and the as-of instant.
    @Test(arguments: Array(UInt64(1)...12))
    func intervalsAgreeWithTheReportRows(seed: UInt64) throws {
        let feed = GeneratedFeed.make(seed: seed)
        var set = ProjectionSet.standard()
        try set.apply(contentsOf: Self.reportingAlwaysOn(feed))
        let view = try #require(set.projection(TimeInStateProjection.self))
        let report = try #require(set.projection(UserStateReportProjection.self))
        let until = timestamp(200)
        let created = minute(1)
        for interval in [ReportInterval.minutes15, .hour, .day] {
            let from = timestamp(0)
            let to = timestamp(240)
            let rows = view.intervals(
                tenant: World.tenant, from: from, to: to, until: until, interval: interval, timeZone: Self.zurich)
            #expect(!rows.isEmpty)
            // Every (user, interval) pair of a life gives rows, and the count a reader checks first is theirs.
            let pairs = Set(rows.map { "\($0.user) \($0.intervalStart.microsecondsSinceEpoch)" })
            #expect(
                view.intervalCount(
                    tenant: World.tenant, from: from, to: to, until: until, interval: interval, timeZone: Self.zurich)
                    == pairs.count, "seed \(seed) \(interval)")
            let reportRows = report.rows(tenant: World.tenant)
            for user in feed.users {
                // GeneratedFeed removes the first user, if any, at 10 minutes + 10,801 seconds.
                let isRemoved =
                    user == feed.users.first && feed.late.events.contains { $0.type == UserRemoved.typeName }
                let removedAt = isRemoved ? minute(10) + 10_801_000_000 : Int64.max
                let lifeEnd = min(removedAt, until.microsecondsSinceEpoch)
                for cut in interval.intervals(from: from, to: to, in: Self.zurich) {
                    let start = cut.start.microsecondsSinceEpoch
                    let end = cut.end.microsecondsSinceEpoch
                    let mine = rows.filter { $0.user == user && $0.intervalStart == cut.start }
                    let expectedTotal = max(0, min(end, lifeEnd) - max(start, created))
                    let total = mine.reduce(Int64(0)) { $0 + Int64(($1.seconds * 1_000_000).rounded()) }
                    #expect(total == expectedTotal, "seed \(seed) \(interval) \(cut.start) total")
                    // Known states: the report rows' overlap with the interval, grouped the same way.
                    var expected: [String: Int64] = [:]
                    // Rows with neither value known (a user's first row, from its creation) count as null time.
                    for row in reportRows where row.user == user && (row.userState != nil || row.availability != nil) {
                        let rowEnd = row.end?.microsecondsSinceEpoch ?? until.microsecondsSinceEpoch
                        let overlap = min(rowEnd, end, lifeEnd) - max(row.start.microsecondsSinceEpoch, start)
                        guard overlap > 0 else { continue }
                        expected["\(row.userState?.name ?? "-")|\(row.availability?.rawValue ?? "-")", default: 0] +=
                            overlap
                    }
                    var actual: [String: Int64] = [:]
                    for row in mine where row.userState != nil || row.availability != nil {
                        actual["\(row.userState ?? "-")|\(row.availability ?? "-")", default: 0] +=
                            Int64((row.seconds * 1_000_000).rounded())
                    }
                    #expect(actual == expected, "seed \(seed) \(interval) \(cut.start)")
                }
            }
        }
    }

    /// Late delivery gives the same interval rows as delivery in order.
    @Test(arguments: Array(UInt64(1)...8))
    func lateDeliveryGivesTheInOrderIntervals(seed: UInt64) throws {
        let feed = GeneratedFeed.make(seed: seed)
        func rows(_ builder: LogBuilder) throws -> [TimeInStateIntervalRow] {
            let view = try #require(try builder.rebuild().projection(TimeInStateProjection.self))
            return view.intervals(
                tenant: World.tenant, from: timestamp(0), to: timestamp(240), until: timestamp(300),
                interval: .minutes15, timeZone: Self.zurich)
        }
        #expect(try rows(feed.late) == rows(feed.inOrder))
    }
}
