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
public struct UserStateReportProjection: UserKeyedProjection {
    /// `user-state-report`.
    public static let name = "user-state-report"
    /// Bumped when the derivation changes (2: names interned, users in dense slots; the rows are unchanged).
    public static let codeVersion: UInt32 = 2

    /// Each tenant's slot in ``tenantSlots``.
    var tenants: [TenantID: Int] = [:]
    /// Tenants' reporting switches and users, by slot.
    var tenantSlots: [TenantReporting] = []
    /// Each user's slot in ``users``: one hash lookup per event, then the user is changed in place.
    var userIndex: [UserID: Int] = [:]
    /// Users' identity, timeline and rows, by slot.
    var users: [ReportedUser] = []
    var ouNames: [OUID: String] = [:]
    /// Where the batch's touch loop leaves its (meaningless) sum, so that the loads are not optimised away.
    var sink = 0
    /// The user-state names and profiles the timelines and rows refer to by code.
    var names = NameTable()

    /// An empty report.
    public init() {}

    /// Folds one event into the report.
    public mutating func apply(_ event: RecordedEvent, decoded: DomainEvent) {
        if recordFeedFact(event, decoded) { return }
        switch decoded {
        case .dataPrivacySettingsChanged(let e):
            switchReporting(
                ReportingSwitch(key: ChangeKey(event), isOn: e.settings.persistUserStatesInReporting),
                in: tenantSlot(e.tenant))
        case .userCreated(let e):
            let tenant = tenantSlot(e.tenant)
            let user = ReportedUser(
                id: e.user, tenant: e.tenant, tenantSlot: tenant, ou: e.ou, name: e.displayName.value,
                userPrincipalName: e.upn.value)
            let previousTenant = userIndex[e.user].map { users[$0].tenantSlot }
            let (slot, isNew) = place(user, as: e.user, index: &userIndex, users: &users)
            if let previousTenant, previousTenant != tenant {
                // Created again in another tenant: the old tenant's switches no longer reach it.
                tenantSlots[previousTenant].users.removeAll { $0 == slot }
            }
            if isNew || previousTenant != tenant { tenantSlots[tenant].users.append(slot) }
        case .tenantCreated(let e): _ = tenantSlot(e.tenant)
        case .ouCreated(let e): ouNames[e.ou] = e.name
        case .ouRenamed(let e): ouNames[e.ou] = e.name
        default: break
        }
    }

    /// The slot of `tenant`, made on first sight.
    private mutating func tenantSlot(_ tenant: TenantID) -> Int {
        if let slot = tenants[tenant] { return slot }
        tenants[tenant] = tenantSlots.count
        tenantSlots.append(TenantReporting(id: tenant))
        return tenantSlots.count - 1
    }

    /// Folds a batch: see `UserKeyedProjection.applyFeedBatch(_:)`.
    public mutating func apply(batch: ArraySlice<DecodedEvent>) { applyFeedBatch(batch) }

    func slot(of user: UserID) -> Int? { userIndex[user] }

    func touch(_ slot: Int) -> Int {
        Int(truncatingIfNeeded: users[slot].timeline.entries.last?.key.position ?? 0)
            &+ Int(truncatingIfNeeded: users[slot].rows.last?.start.position ?? 0)
    }

    /// Places a feed fact of the user in `slot`.
    mutating func record(_ entry: TimelineEntry, slot: Int) {
        let switches = tenantSlots[users[slot].tenantSlot].switches
        users[slot].record(entry, switches: switches)
    }

    private mutating func switchReporting(_ change: ReportingSwitch, in tenant: Int) {
        let previous = tenantSlots[tenant].switches.last
        let appended = previous.map { $0.key < change.key } ?? true
        let wasOn = previous?.isOn ?? false
        tenantSlots[tenant].insert(change)
        let switches = tenantSlots[tenant].switches
        for slot in tenantSlots[tenant].users {
            users[slot].apply(change, appended: appended, wasOn: wasOn, switches: switches)
        }
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
            if let slot = userIndex[user], tenant.map({ $0 == users[slot].tenant }) ?? true {
                selected.append((user, users[slot]))
            }
        } else {
            for reported in users where tenant.map({ $0 == reported.tenant }) ?? true {
                selected.append((reported.id, reported))
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
                let state = names.agentState(row.state)
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
                        responsibilityProfile: state.responsibilityProfile, userState: state.userState,
                        availability: state.availability, activity: state.activity, start: row.start.timestamp,
                        end: end, durationSeconds: duration))
            }
        }
        return result
    }

    /// How many rows the report holds in all.
    public var rowCount: Int { users.reduce(0) { $0 + $1.rows.count } }

    /// Whether reporting is on for `tenant` now (after its last switch by `occurredAt`).
    public func isReportingOn(for tenant: TenantID) -> Bool {
        tenants[tenant].map { tenantSlots[$0].switches.last?.isOn ?? false } ?? false
    }
}

/// A change of `persistUserStatesInReporting`, at its place in time.
struct ReportingSwitch: Hashable, Sendable {
    var key: ChangeKey
    var isOn: Bool
}

/// A tenant's reporting switches (sorted by key) and its users' slots.
struct TenantReporting: Hashable, Sendable {
    var id: TenantID
    var switches: [ReportingSwitch] = []
    var users: [Int] = []

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
    var state: PackedState
}

/// One user's identity, timeline and rows.
struct ReportedUser: Hashable, Sendable {
    var id: UserID
    var tenant: TenantID
    /// The tenant's slot in the projection's `tenantSlots`.
    var tenantSlot: Int
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

    /// Applies a reporting switch of the user's tenant: O(1) when it comes after everything known.
    mutating func apply(_ change: ReportingSwitch, appended: Bool, wasOn: Bool, switches: [ReportingSwitch]) {
        if appended && (timeline.lastKey.map { $0 < change.key } ?? true) {
            if change.isOn && !wasOn && timeline.current.isKnown {
                rows.append(StoredRow(start: change.key, end: nil, state: timeline.current))
            } else if !change.isOn && wasOn {
                closeOpenRow(at: change.key)
            }
        } else {
            regenerate(from: change.key, switches: switches)
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
