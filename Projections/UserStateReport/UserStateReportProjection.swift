public import CumulusDomain
public import CumulusLog

/// The user-state report (domain.md §9): per user, one row per interval of unchanged user state, responsibility
/// profile, presence availability and activity, generated only while the tenant's `persistUserStatesInReporting`
/// is on.
///
/// Per user, changes are ordered by `occurredAt` (ties by position) and the reporting switch takes effect at its
/// own `occurredAt`. An event that arrives in order costs O(1); a late one is inserted in the user's timeline and
/// only that user's rows from its instant on are regenerated; a late switch regenerates the tenant's users from
/// the switch on. The rows are therefore exactly those of in-order arrival.
public struct UserStateReportProjection: Projection {
    /// `user-state-report`.
    public static let name = "user-state-report"
    /// Bumped when the derivation changes.
    public static let codeVersion: UInt32 = 1

    var tenants: [TenantID: TenantReporting] = [:]
    var users: [UserID: ReportedUser] = [:]
    var ouNames: [OUID: String] = [:]

    /// An empty report.
    public init() {}

    /// Folds one event into the report.
    public mutating func apply(_ event: RecordedEvent, decoded: DomainEvent) {
        switch decoded {
        case .presenceChanged(let e):
            record(TimelineEntry(key: ChangeKey(event), change: .presence(e.availability, e.activity)), for: e.user)
        case .userStateChanged(let e):
            record(
                TimelineEntry(
                    key: ChangeKey(event), change: .userState(e.state, responsibilityProfile: e.responsibilityProfile)),
                for: e.user)
        case .userRemoved(let e):
            record(TimelineEntry(key: ChangeKey(event), change: .removed), for: e.user)
        case .dataPrivacySettingsChanged(let e):
            switchReporting(
                ReportingSwitch(key: ChangeKey(event), isOn: e.settings.persistUserStatesInReporting), in: e.tenant)
        case .userCreated(let e):
            users[e.user] = ReportedUser(
                tenant: e.tenant, ou: e.ou, name: e.displayName.value, userPrincipalName: e.upn.value)
            tenants[e.tenant, default: TenantReporting()].users.append(e.user)
        case .tenantCreated(let e):
            if tenants[e.tenant] == nil { tenants[e.tenant] = TenantReporting() }
        case .ouCreated(let e): ouNames[e.ou] = e.name
        case .ouRenamed(let e): ouNames[e.ou] = e.name
        default: break
        }
    }

    private mutating func record(_ entry: TimelineEntry, for userID: UserID) {
        // Through the index, the user is borrowed and modified in place: `users[userID]?.tenant` would copy
        // the whole user (timeline, rows) for every event.
        guard let index = users.index(forKey: userID) else { return }
        let tenant = users.values[index].tenant
        let switches = tenants[tenant]?.switches ?? []
        users.values[index].record(entry, switches: switches)
    }

    private mutating func switchReporting(_ change: ReportingSwitch, in tenantID: TenantID) {
        var reporting = tenants.removeValue(forKey: tenantID) ?? TenantReporting()
        let previous = reporting.switches.last
        let appended = previous.map { $0.key < change.key } ?? true
        let wasOn = previous?.isOn ?? false
        reporting.insert(change)
        for userID in reporting.users {
            guard var user = users.removeValue(forKey: userID) else { continue }
            if appended && (user.timeline.lastKey.map { $0 < change.key } ?? true) {
                if change.isOn && !wasOn && user.timeline.current.isKnown {
                    user.rows.append(StoredRow(start: change.key, end: nil, state: user.timeline.current))
                } else if !change.isOn && wasOn {
                    user.closeOpenRow(at: change.key)
                }
            } else {
                user.regenerate(from: change.key, switches: reporting.switches)
            }
            users[userID] = user
        }
        tenants[tenantID] = reporting
    }

    /// The rows, ordered by tenant, user name, user and start.
    ///
    /// - Parameters:
    ///   - tenant: only this tenant's rows.
    ///   - user: only this user's rows.
    ///   - from: only rows that end after this instant (open rows always do).
    ///   - to: only rows that start before this instant.
    ///   - openRowsUntil: the instant the report is built for; an open row's duration runs to it (no duration when nil).
    public func rows(
        tenant: TenantID? = nil, user: UserID? = nil, from: Timestamp? = nil, to: Timestamp? = nil,
        openRowsUntil: Timestamp? = nil
    ) -> [UserStateReportRow] {
        var selected: [(UserID, ReportedUser)] = []
        if let user {
            if let reported = users[user], tenant.map({ $0 == reported.tenant }) ?? true {
                selected.append((user, reported))
            }
        } else {
            for (id, reported) in users where tenant.map({ $0 == reported.tenant }) ?? true {
                selected.append((id, reported))
            }
        }
        selected.sort { lhs, rhs in
            if lhs.1.tenant != rhs.1.tenant { return lhs.1.tenant < rhs.1.tenant }
            if lhs.1.name != rhs.1.name { return lhs.1.name < rhs.1.name }
            return lhs.0 < rhs.0
        }
        let fromMicros = from?.microsecondsSinceEpoch
        let toMicros = to?.microsecondsSinceEpoch
        var result: [UserStateReportRow] = []
        for (id, reported) in selected {
            for row in reported.rows {
                if let toMicros, row.start.occurredAt >= toMicros { break }
                if let fromMicros, let end = row.end, end.occurredAt <= fromMicros { continue }
                let end = row.end?.timestamp
                let duration: Double? =
                    if let end { end.seconds(since: row.start.timestamp) } else {
                        openRowsUntil.map { $0.seconds(since: row.start.timestamp) }
                    }
                result.append(
                    UserStateReportRow(
                        tenant: reported.tenant, user: id, userName: reported.name,
                        userPrincipalName: reported.userPrincipalName, ou: reported.ou,
                        ouName: ouNames[reported.ou] ?? reported.ou.description,
                        responsibilityProfile: row.state.responsibilityProfile, userState: row.state.userState,
                        availability: row.state.availability, activity: row.state.activity, start: row.start.timestamp,
                        end: end, durationSeconds: duration))
            }
        }
        return result
    }

    /// How many rows the report holds in all.
    public var rowCount: Int { users.values.reduce(0) { $0 + $1.rows.count } }

    /// Whether reporting is on for `tenant` now (after its last switch by `occurredAt`).
    public func isReportingOn(for tenant: TenantID) -> Bool { tenants[tenant]?.switches.last?.isOn ?? false }
}

/// A change of `persistUserStatesInReporting`, at its place in time.
struct ReportingSwitch: Hashable, Sendable {
    var key: ChangeKey
    var isOn: Bool
}

/// A tenant's reporting switches (sorted by key) and its users.
struct TenantReporting: Hashable, Sendable {
    var switches: [ReportingSwitch] = []
    var users: [UserID] = []

    mutating func insert(_ change: ReportingSwitch) {
        if let last = switches.last, change.key < last.key {
            let index = switches.firstIndex { !($0.key < change.key) } ?? switches.count
            switches.insert(change, at: index)
        } else {
            switches.append(change)
        }
    }
}

/// A report row as stored: keys instead of timestamps, so late events find their place.
struct StoredRow: Hashable, Sendable {
    var start: ChangeKey
    var end: ChangeKey?
    var state: AgentState
}

/// One user's identity, timeline and rows.
struct ReportedUser: Hashable, Sendable {
    var tenant: TenantID
    var ou: OUID
    var name: String
    var userPrincipalName: String
    var timeline = UserTimeline()
    var rows: [StoredRow] = []

    /// Places `entry`: O(1) when it comes after everything known, otherwise regenerates from its instant.
    mutating func record(_ entry: TimelineEntry, switches: [ReportingSwitch]) {
        let lastSwitch = switches.last
        let inOrder =
            (timeline.lastKey.map { $0 < entry.key } ?? true) && (lastSwitch.map { $0.key < entry.key } ?? true)
        guard inOrder else {
            timeline.insert(entry)
            regenerate(from: entry.key, switches: switches)
            return
        }
        let before = timeline.current
        timeline.insert(entry)
        let after = timeline.current
        if after != before && lastSwitch?.isOn == true {
            closeOpenRow(at: entry.key)
            if after.isKnown { rows.append(StoredRow(start: entry.key, end: nil, state: after)) }
        }
    }

    mutating func closeOpenRow(at key: ChangeKey) {
        if let last = rows.indices.last, rows[last].end == nil { rows[last].end = key }
    }

    /// Regenerates the rows from `key` on, as in-order arrival would have produced them.
    ///
    /// Rows that started before `key` were produced by earlier facts and stay; the one open just before `key`
    /// is reopened; then the timeline and the switches from `key` on are swept in order.
    mutating func regenerate(from key: ChangeKey, switches: [ReportingSwitch]) {
        while let last = rows.last, !(last.start < key) { rows.removeLast() }
        if let last = rows.indices.last, let end = rows[last].end, key < end { rows[last].end = nil }
        var entryIndex = timeline.firstIndex(notBefore: key)
        var state = timeline.state(before: entryIndex)
        var switchIndex = switches.firstIndex { !($0.key < key) } ?? switches.count
        var isOn = switchIndex > 0 ? switches[switchIndex - 1].isOn : false
        let entries = timeline.entries
        while entryIndex < entries.count || switchIndex < switches.count {
            if switchIndex < switches.count
                && (entryIndex == entries.count || switches[switchIndex].key < entries[entryIndex].key)
            {
                let change = switches[switchIndex]
                switchIndex += 1
                if change.isOn && !isOn {
                    isOn = true
                    if state.isKnown { rows.append(StoredRow(start: change.key, end: nil, state: state)) }
                } else if !change.isOn && isOn {
                    isOn = false
                    closeOpenRow(at: change.key)
                }
            } else {
                let entry = entries[entryIndex]
                entryIndex += 1
                var next = state
                next.apply(entry.change)
                guard next != state else { continue }
                state = next
                if isOn {
                    closeOpenRow(at: entry.key)
                    if state.isKnown { rows.append(StoredRow(start: entry.key, end: nil, state: state)) }
                }
            }
        }
    }
}
