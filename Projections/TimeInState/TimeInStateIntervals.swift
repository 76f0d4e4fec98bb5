public import CumulusDomain
public import CumulusLog
public import Foundation

/// The length of a reporting interval (domain.md §11): 15, 30 or 60 minutes, or a day of the tenant's time zone.
public enum ReportInterval: String, CaseIterable, Hashable, Sendable {
    /// A quarter of an hour.
    case minutes15 = "15m"
    /// Half an hour.
    case minutes30 = "30m"
    /// An hour.
    case hour = "1h"
    /// A calendar day of the tenant's time zone (23 or 25 hours on a day of a DST change).
    case day = "1d"

    /// The length of a sub-day interval in microseconds; `nil` for a day.
    var fixedLength: Int64? {
        switch self {
        case .minutes15: 15 * 60 * 1_000_000
        case .minutes30: 30 * 60 * 1_000_000
        case .hour: 3_600 * 1_000_000
        case .day: nil
        }
    }

    /// The intervals (start, end) in microseconds that cover `[from, to)`, aligned to `timeZone`.
    ///
    /// Each local day is cut into steps of the interval's length from its midnight; the last step of a day ends
    /// at the next midnight. So a day of a DST change has 23 or 25 hourly intervals, and no interval crosses
    /// midnight. The first interval starts at or before `from`, the last ends at or after `to`.
    public func intervals(from: Timestamp, to: Timestamp, in timeZone: TimeZone) -> [(start: Timestamp, end: Timestamp)]
    {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var result: [(start: Timestamp, end: Timestamp)] = []
        var dayStart = Timestamp(calendar.startOfDay(for: from.date))
        while dayStart < to {
            guard let nextDay = calendar.date(byAdding: .day, value: 1, to: dayStart.date) else { break }
            let dayEnd = Timestamp(calendar.startOfDay(for: nextDay))
            guard dayEnd > dayStart else { break }
            if let step = fixedLength {
                var start = dayStart.microsecondsSinceEpoch
                while start < dayEnd.microsecondsSinceEpoch {
                    let end = min(start + step, dayEnd.microsecondsSinceEpoch)
                    if end > from.microsecondsSinceEpoch && start < to.microsecondsSinceEpoch {
                        result.append(
                            (Timestamp(microsecondsSinceEpoch: start), Timestamp(microsecondsSinceEpoch: end)))
                    }
                    start = end
                }
            } else {
                result.append((dayStart, dayEnd))
            }
            dayStart = dayEnd
        }
        return result
    }
}

/// Seconds one user spent in one combination of user state and presence availability within one interval.
///
/// `nil` user state or availability means "not known yet" (no user state set, no presence received): such time
/// is listed, never guessed, so that a user's rows of one interval add up to the interval's length clipped to
/// the user's life and to the instant the view is read for.
public struct TimeInStateIntervalRow: Hashable, Sendable {
    /// The tenant.
    public var tenant: TenantID
    /// The user.
    public var user: UserID
    /// The user's display name.
    public var userName: String
    /// The user's UPN.
    public var userPrincipalName: String
    /// The interval's length.
    public var interval: ReportInterval
    /// The interval's start (inclusive).
    public var intervalStart: Timestamp
    /// The interval's end (exclusive).
    public var intervalEnd: Timestamp
    /// The interval's start in the tenant's time zone, ISO 8601 with the offset (`2026-03-29T03:00:00+02:00`).
    public var intervalStartLocal: String
    /// The user-state name, or `nil` while none was set.
    public var userState: String?
    /// The presence availability, or `nil` before the first presence.
    public var availability: String?
    /// Seconds in this combination within the interval (microsecond precision).
    public var seconds: Double

    /// Assembles a row.
    public init(
        tenant: TenantID, user: UserID, userName: String, userPrincipalName: String, interval: ReportInterval,
        intervalStart: Timestamp, intervalEnd: Timestamp, intervalStartLocal: String, userState: String?,
        availability: String?, seconds: Double
    ) {
        self.tenant = tenant
        self.user = user
        self.userName = userName
        self.userPrincipalName = userPrincipalName
        self.interval = interval
        self.intervalStart = intervalStart
        self.intervalEnd = intervalEnd
        self.intervalStartLocal = intervalStartLocal
        self.userState = userState
        self.availability = availability
        self.seconds = seconds
    }
}

extension TimeInStateProjection {
    /// The user's time in state by interval over `[from, to)`, counted up to `until` (the as-of instant or now).
    ///
    /// One row per interval, user state and availability with time in it, ordered by interval start, then user
    /// state, then availability (`nil` first). Time before the user's creation, after its removal and after
    /// `until` is not counted. The intervals are those of ``ReportInterval/intervals(from:to:in:)``: whole
    /// intervals, so the window is widened to interval edges.
    public func intervals(
        of userID: UserID, from: Timestamp, to: Timestamp, until: Timestamp, interval: ReportInterval,
        timeZone: TimeZone
    ) -> [TimeInStateIntervalRow] {
        guard let slot = userIndex[userID] else { return [] }
        let user = users[slot]
        let cuts = intervalCuts(of: user, from: from, to: to, until: until, interval: interval, timeZone: timeZone)
        guard let first = cuts.first, let last = cuts.last else { return [] }
        let lifeEnd = self.lifeEnd(of: user, until: until)
        let countFrom = max(first.start.microsecondsSinceEpoch, user.createdAt)
        let countTo = min(last.end.microsecondsSinceEpoch, lifeEnd)
        guard countFrom < countTo else { return [] }

        // The user's segments within [countFrom, countTo), in order: (start, end, user-state code, availability).
        var segments: [(start: Int64, end: Int64, state: UInt32, availability: Availability?)] = []
        let entries = user.timeline.entries
        var index = user.timeline.firstIndex(after: countFrom)
        var state = user.timeline.state(before: index)
        var segmentStart = countFrom
        func close(at instant: Int64) {
            let end = min(instant, countTo)
            guard end > segmentStart, !state.isRemoved else { return }
            segments.append((segmentStart, end, state.userState, state.availability))
        }
        while index < entries.count && entries[index].key.occurredAt < countTo {
            let entry = entries[index]
            close(at: entry.key.occurredAt)
            state.apply(entry.change)
            segmentStart = max(segmentStart, entry.key.occurredAt)
            index += 1
        }
        close(at: countTo)

        let formatter = ISO8601DateFormatter()
        formatter.timeZone = timeZone
        formatter.formatOptions = [.withInternetDateTime]
        var rows: [TimeInStateIntervalRow] = []
        var segmentIndex = 0
        for cut in cuts {
            let start = cut.start.microsecondsSinceEpoch
            let end = cut.end.microsecondsSinceEpoch
            var perKey: [IntervalKey: Int64] = [:]
            while segmentIndex < segments.count && segments[segmentIndex].end <= start { segmentIndex += 1 }
            var probe = segmentIndex
            while probe < segments.count && segments[probe].start < end {
                let segment = segments[probe]
                let length = min(segment.end, end) - max(segment.start, start)
                if length > 0 {
                    let key = IntervalKey(
                        userState: names.name(segment.state), availability: segment.availability?.rawValue)
                    perKey[key, default: 0] += length
                }
                probe += 1
            }
            let local = formatter.string(from: cut.start.date)
            for (key, micros) in perKey.sorted(by: { $0.key < $1.key }) {
                rows.append(
                    TimeInStateIntervalRow(
                        tenant: user.tenant, user: userID, userName: user.name,
                        userPrincipalName: user.userPrincipalName, interval: interval, intervalStart: cut.start,
                        intervalEnd: cut.end, intervalStartLocal: local, userState: key.userState,
                        availability: key.availability, seconds: Double(micros) / 1_000_000))
            }
        }
        return rows
    }

    /// Where `user`'s countable time ends: at its removal or at `until`, whichever comes first (microseconds).
    private func lifeEnd(of user: TrackedUser, until: Timestamp) -> Int64 {
        min(user.timeline.removedKey?.occurredAt ?? Int64.max, until.microsecondsSinceEpoch)
    }

    /// The intervals of `[from, to)` in which `user` can have time: only those that meet the user's life up to
    /// `until` (from its creation to its removal or `until`), since no other interval holds a row. A window of
    /// centuries asked for a user of a month so costs a month's intervals, not millions of them. The intervals kept
    /// are exactly those ``ReportInterval/intervals(from:to:in:)`` gives for the whole window that meet the life:
    /// the alignment is the local day's, whatever the window's edges.
    func intervalCuts(
        of userID: UserID, from: Timestamp, to: Timestamp, until: Timestamp, interval: ReportInterval,
        timeZone: TimeZone
    ) -> [(start: Timestamp, end: Timestamp)] {
        guard let slot = userIndex[userID] else { return [] }
        return intervalCuts(of: users[slot], from: from, to: to, until: until, interval: interval, timeZone: timeZone)
    }

    private func intervalCuts(
        of user: TrackedUser, from: Timestamp, to: Timestamp, until: Timestamp, interval: ReportInterval,
        timeZone: TimeZone
    ) -> [(start: Timestamp, end: Timestamp)] {
        let lifeEnd = self.lifeEnd(of: user, until: until)
        guard from < to, user.createdAt < lifeEnd else { return [] }
        let start = max(from.microsecondsSinceEpoch, user.createdAt)
        let end = min(to.microsecondsSinceEpoch, lifeEnd)
        if start < end {
            return interval.intervals(
                from: Timestamp(microsecondsSinceEpoch: start), to: Timestamp(microsecondsSinceEpoch: end), in: timeZone
            )
        }
        // The life lies wholly before the window or after it, so only an interval that holds both the life's edge
        // and the window's (the window is widened to whole intervals) can meet both.
        guard start < Int64.max else { return [] }
        let holding = interval.intervals(
            from: Timestamp(microsecondsSinceEpoch: start), to: Timestamp(microsecondsSinceEpoch: start + 1),
            in: timeZone)
        return holding.filter { $0.start.microsecondsSinceEpoch < end }
    }

    /// How many (user, interval) pairs ``intervals(tenant:user:from:to:until:interval:timeZone:)`` would fill: the
    /// intervals of the window that meet each selected user's life up to `until`. Every such pair gives at least
    /// one row, so a reader can refuse a query whose rows would not fit before building any. Counted from the
    /// window's intervals, built once, and each user's life found in them by binary search.
    public func intervalCount(
        tenant: TenantID, user: UserID? = nil, from: Timestamp, to: Timestamp, until: Timestamp,
        interval: ReportInterval, timeZone: TimeZone
    ) -> Int {
        let selected = user.map { [$0] } ?? users(in: tenant)
        let lives = selected.compactMap { id -> (id: UserID, created: Int64, end: Int64)? in
            guard let slot = userIndex[id], users[slot].tenant == tenant else { return nil }
            let user = users[slot]
            let lifeEnd = self.lifeEnd(of: user, until: until)
            return user.createdAt < lifeEnd ? (id, user.createdAt, lifeEnd) : nil
        }
        guard from < to, let earliest = lives.map(\.created).min(), let latest = lives.map(\.end).max() else {
            return 0
        }
        // The window's intervals that meet any life: the same clipping as for one user, over all of them.
        let start = max(from.microsecondsSinceEpoch, earliest)
        let end = min(to.microsecondsSinceEpoch, latest)
        guard start < end else {
            // The lives meet the window, if at all, only inside the widened interval at one of its edges.
            return lives.reduce(0) { total, life in
                let cuts = intervalCuts(
                    of: life.id, from: from, to: to, until: until, interval: interval, timeZone: timeZone)
                return total + cuts.count
            }
        }
        let cuts = interval.intervals(
            from: Timestamp(microsecondsSinceEpoch: start), to: Timestamp(microsecondsSinceEpoch: end), in: timeZone)
        let starts = cuts.map(\.start.microsecondsSinceEpoch)
        let ends = cuts.map(\.end.microsecondsSinceEpoch)
        /// The first index of the ascending `values` from which `isPast` holds, by binary search.
        func firstIndex(in values: [Int64], where isPast: (Int64) -> Bool) -> Int {
            var low = 0
            var high = values.count
            while low < high {
                let middle = (low + high) / 2
                if isPast(values[middle]) { high = middle } else { low = middle + 1 }
            }
            return low
        }
        return lives.reduce(0) { total, life in
            // Intervals with end > createdAt and start < lifeEnd.
            let first = firstIndex(in: ends) { $0 > life.created }
            let last = firstIndex(in: starts) { $0 >= life.end }
            return total + max(0, last - first)
        }
    }

    /// The interval rows of every user of `tenant` (or only `user`), users ordered by name then id.
    public func intervals(
        tenant: TenantID, user: UserID? = nil, from: Timestamp, to: Timestamp, until: Timestamp,
        interval: ReportInterval, timeZone: TimeZone
    ) -> [TimeInStateIntervalRow] {
        let selected = user.map { [$0] } ?? users(in: tenant)
        return selected.flatMap { id -> [TimeInStateIntervalRow] in
            guard self.tenant(of: id) == tenant else { return [] }
            return intervals(of: id, from: from, to: to, until: until, interval: interval, timeZone: timeZone)
        }
    }
}

/// A row's grouping key inside one interval; `nil` sorts first.
private struct IntervalKey: Hashable, Comparable {
    var userState: String?
    var availability: String?

    static func < (lhs: IntervalKey, rhs: IntervalKey) -> Bool {
        func rank(_ value: String?) -> (Int, String) { value.map { (1, $0) } ?? (0, "") }
        let left = (rank(lhs.userState), rank(lhs.availability))
        let right = (rank(rhs.userState), rank(rhs.availability))
        return left.0 != right.0 ? left.0 < right.0 : left.1 < right.1
    }
}
