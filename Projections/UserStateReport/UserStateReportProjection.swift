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
    /// Bumped when the derivation changes (2: names interned, users in dense slots; 3: rows from creation and
    /// turn-on whatever is known, renames, moves and profile changes start rows).
    public static let codeVersion: UInt32 = 3

    /// Each tenant's slot in ``tenantSlots``.
    var tenants: [TenantID: Int] = [:]
    /// Tenants' reporting switches and users, by slot.
    var tenantSlots: [TenantReporting] = []
    /// Each user's slot in ``users``: one hash lookup per event, then the user is changed in place.
    var userIndex = UserSlots()
    /// Users' identity, timeline and rows, by slot.
    var users: [ReportedUser] = []
    var ouNames: [OUID: String] = [:]
    /// Where the batch's touch loop leaves its (meaningless) sum, so that the loads are not optimised away.
    var sink = 0
    /// The user-state names and profiles the timelines and rows refer to by code.
    var names = NameTable()
    /// Users whose late facts landed before their history's horizon, with the earliest such fact.
    var historyRequests: [UserID: ChangeKey] = [:]

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
            let created = IdentityChange(key: ChangeKey(event), name: names.code(for: e.displayName.value), ou: e.ou)
            let user = ReportedUser(
                id: e.user, tenant: e.tenant, tenantSlot: tenant, userPrincipalName: e.upn.value, created: created)
            let previousTenant = userIndex[e.user].map { users[$0].tenantSlot }
            let (slot, isNew) = place(user, as: e.user, index: &userIndex, users: &users)
            if let previousTenant, previousTenant != tenant {
                // Created again in another tenant: the old tenant's switches no longer reach it.
                tenantSlots[previousTenant].users.removeAll { $0 == slot }
            }
            if isNew || previousTenant != tenant { tenantSlots[tenant].users.append(slot) }
            // A user created while reporting is on gets a row from its creation (domain.md §9).
            users[slot].regenerate(from: created.key, switches: tenantSlots[tenant].switches)
        case .userRenamed(let e):
            guard let slot = userIndex[e.user] else { return }
            let name = names.code(for: e.displayName.value)
            recordIdentity(IdentityChange(key: ChangeKey(event), name: name, ou: nil), slot: slot)
        case .userMoved(let e):
            guard let slot = userIndex[e.user] else { return }
            recordIdentity(IdentityChange(key: ChangeKey(event), name: nil, ou: e.to), slot: slot)
        case .userPrincipalNameChanged(let e):
            if let slot = userIndex[e.user] { users[slot].userPrincipalName = e.upn.value }
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

    /// Loads every cache line of the user's record that recording a fact reads (its first field, the timeline's
    /// last key, the tenant slot, the last one) and the tails of its timeline and rows (the open row's end is
    /// written when the row closes).
    func touch(_ slot: Int) -> Int {
        Int(truncatingIfNeeded: users[slot].timeline.entries.last?.key.position ?? 0)
            &+ Int(truncatingIfNeeded: users[slot].timeline.lastKey?.position ?? 0)
            &+ Int(truncatingIfNeeded: users[slot].timeline.compactedBefore)
            &+ Int(truncatingIfNeeded: users[slot].rows.last?.end?.position ?? 0)
            &+ Int(truncatingIfNeeded: users[slot].lastIdentityKey.position) &+ users[slot].tenantSlot
    }

    /// Places a feed fact of the user in `slot`.
    ///
    /// The in-order case reads only the tenant's last switch: handing the whole switch array (or the timeline, to
    /// the history check) over would retain and release it for every event.
    mutating func record(_ entry: TimelineEntry, slot: Int) {
        if !users[slot].timeline.placesExactly(entry.key) {
            requestHistoryIfNeeded(entry, of: users[slot].id, in: users[slot].timeline)
        }
        let tenant = users[slot].tenantSlot
        let lastSwitch = tenantSlots[tenant].switches.last
        if users[slot].isAfterEverything(entry.key, lastSwitch: lastSwitch) {
            users[slot].recordInOrder(entry, isOn: lastSwitch?.isOn ?? false)
        } else {
            users[slot].record(entry, switches: tenantSlots[tenant].switches)
        }
    }

    /// Replaces the user's timeline with the complete one from its stream and regenerates the user's rows from
    /// the earliest late fact on, then drops old repeats again.
    public mutating func rebuildHistory(of user: UserID, from stream: [DecodedEvent]) {
        guard let from = historyRequests.removeValue(forKey: user), let slot = userIndex[user] else { return }
        users[slot].timeline = Self.completeTimeline(stream, names: &names)
        users[slot].regenerate(from: from, switches: tenantSlots[users[slot].tenantSlot].switches)
        users[slot].timeline.compact()
    }

    /// Places a rename or move of the user in `slot`.
    private mutating func recordIdentity(_ change: IdentityChange, slot: Int) {
        let switches = tenantSlots[users[slot].tenantSlot].switches
        users[slot].record(change, switches: switches)
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
    ///
    /// An open row (still current at the point the projection was built to) has no `end` and no duration, so the
    /// same query gives the same rows whenever it runs (domain.md §9).
    public func rows(
        tenant: TenantID? = nil, user: UserID? = nil, from: Timestamp? = nil, to: Timestamp? = nil
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
        let currentNames = selected.map { names.name($0.1.identity?.name ?? 0) ?? "" }
        var order = Array(selected.indices)
        order.sort { lhs, rhs in
            let (left, right) = (selected[lhs].1, selected[rhs].1)
            if left.tenant != right.tenant { return left.tenant < right.tenant }
            if currentNames[lhs] != currentNames[rhs] { return currentNames[lhs] < currentNames[rhs] }
            return left.id < right.id
        }
        selected = order.map { selected[$0] }
        let fromMicros = from?.microsecondsSinceEpoch
        let toMicros = to?.microsecondsSinceEpoch
        var result: [UserStateReportRow] = []
        for (id, reported) in selected {
            for row in reported.rows {
                let state = names.agentState(row.state)
                if let toMicros, row.start.occurredAt >= toMicros { break }
                if let fromMicros, let end = row.end, end.occurredAt <= fromMicros { continue }
                let end = row.end?.timestamp
                let duration = end.map { $0.seconds(since: row.start.timestamp) }
                result.append(
                    UserStateReportRow(
                        tenant: reported.tenant, user: id, userName: names.name(row.identity.name) ?? "",
                        userPrincipalName: reported.userPrincipalName, ou: row.identity.ou,
                        ouName: ouNames[row.identity.ou] ?? row.identity.ou.description,
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

/// Who a user is in a row: display name (a ``NameTable`` code) and organisation unit.
struct RowIdentity: Hashable, Sendable {
    var name: UInt32
    var ou: OUID
}

/// A change of a user's row identity at its place in time: creation (the first, both fields), a rename (the name)
/// or a move (the OU).
struct IdentityChange: Hashable, Sendable {
    var key: ChangeKey
    var name: UInt32?
    var ou: OUID?

    /// The identity after this change.
    func applied(to identity: RowIdentity?) -> RowIdentity? {
        if let identity { return RowIdentity(name: name ?? identity.name, ou: ou ?? identity.ou) }
        guard let name, let ou else { return nil }
        return RowIdentity(name: name, ou: ou)
    }
}

/// A report row as stored: keys instead of timestamps, so late events find their place.
struct StoredRow: Hashable, Sendable {
    var start: ChangeKey
    var end: ChangeKey?
    var state: PackedState
    var identity: RowIdentity
}

/// What decides a user's rows at one instant: whether reporting is on, who the user is (nil before creation),
/// and the agent's state.
struct RowSituation: Hashable {
    var isOn: Bool
    var identity: RowIdentity?
    var state: PackedState

    /// Whether a row is open in this situation: reporting on, the user created and not removed. Values not known
    /// yet (no presence, no user state) are null in the row (domain.md §9).
    var isShown: Bool { isOn && identity != nil && !state.isRemoved }
}

/// One user's identity, timeline and rows.
///
/// What every feed fact reads comes first (timeline, rows, identity, last identity key, tenant slot), so that it
/// lies on as few cache lines as possible and the batch's touch loop (``UserStateReportProjection/touch(_:)``)
/// loads all of them; identity fields that only queries and late facts read come after.
struct ReportedUser: Hashable, Sendable {
    var timeline = UserTimeline()
    var rows: [StoredRow] = []
    /// The identity after every change (cached: every feed fact reads it).
    private(set) var identity: RowIdentity?
    /// The key of the last identity change, kept inline: the in-order check of every feed fact reads it, and
    /// reading it from `identities` would be a cache miss per event.
    private(set) var lastIdentityKey: ChangeKey
    /// The tenant's slot in the projection's `tenantSlots`.
    var tenantSlot: Int
    var id: UserID
    var tenant: TenantID
    var userPrincipalName: String
    /// Creation, renames and moves, sorted by key (a handful per user).
    private(set) var identities: [IdentityChange]

    init(id: UserID, tenant: TenantID, tenantSlot: Int, userPrincipalName: String, created: IdentityChange) {
        self.id = id
        self.tenant = tenant
        self.tenantSlot = tenantSlot
        self.userPrincipalName = userPrincipalName
        self.identities = [created]
        self.identity = created.applied(to: nil)
        self.lastIdentityKey = created.key
    }

    /// Restores the identity changes of a stored state (sorted, the creation first).
    mutating func restoreIdentities(_ changes: [IdentityChange]) {
        identities = changes
        identity = identity(before: changes.count)
        lastIdentityKey = changes.last?.key ?? lastIdentityKey
    }

    /// The identity after the changes before `index`.
    func identity(before index: Int) -> RowIdentity? {
        identities[..<index].reduce(nil) { $1.applied(to: $0) }
    }

    /// Whether `key` comes after everything the rows depend on of this user (its timeline, its identity changes and
    /// its tenant's last switch).
    func isAfterEverything(_ key: ChangeKey, lastSwitch: ReportingSwitch?) -> Bool {
        (timeline.lastKey.map { $0 < key } ?? true) && (lastSwitch.map { $0.key < key } ?? true)
            && lastIdentityKey < key
    }

    /// Whether `key` comes after everything the rows depend on of this user.
    func isAfterEverything(_ key: ChangeKey, switches: [ReportingSwitch]) -> Bool {
        isAfterEverything(key, lastSwitch: switches.last)
    }

    /// Places `entry`: O(1) when it comes after everything known, otherwise regenerates from its instant.
    mutating func record(_ entry: TimelineEntry, switches: [ReportingSwitch]) {
        guard isAfterEverything(entry.key, switches: switches) else {
            timeline.insert(entry)
            regenerate(from: entry.key, switches: switches)
            return
        }
        recordInOrder(entry, isOn: switches.last?.isOn ?? false)
    }

    /// Places `entry`, which comes after everything known (``isAfterEverything(_:lastSwitch:)``), with reporting
    /// `isOn`: O(1).
    mutating func recordInOrder(_ entry: TimelineEntry, isOn: Bool) {
        let before = RowSituation(isOn: isOn, identity: identity, state: timeline.current)
        timeline.insert(entry)
        step(at: entry.key, from: before, to: RowSituation(isOn: isOn, identity: identity, state: timeline.current))
    }

    /// Places a rename or a move: O(1) when it comes after everything known, otherwise regenerates from it.
    mutating func record(_ change: IdentityChange, switches: [ReportingSwitch]) {
        guard isAfterEverything(change.key, switches: switches) else {
            let index = identities.firstIndex { !($0.key < change.key) } ?? identities.count
            identities.insert(change, at: index)
            identity = self.identity(before: identities.count)
            lastIdentityKey = identities.last?.key ?? lastIdentityKey
            regenerate(from: change.key, switches: switches)
            return
        }
        let isOn = switches.last?.isOn ?? false
        let before = RowSituation(isOn: isOn, identity: identity, state: timeline.current)
        identities.append(change)
        identity = change.applied(to: identity)
        lastIdentityKey = change.key
        step(at: change.key, from: before, to: RowSituation(isOn: isOn, identity: identity, state: timeline.current))
    }

    /// Applies a reporting switch of the user's tenant: O(1) when it comes after everything known.
    mutating func apply(_ change: ReportingSwitch, appended: Bool, wasOn: Bool, switches: [ReportingSwitch]) {
        guard
            appended && (timeline.lastKey.map { $0 < change.key } ?? true)
                && lastIdentityKey < change.key
        else {
            regenerate(from: change.key, switches: switches)
            return
        }
        step(
            at: change.key, from: RowSituation(isOn: wasOn, identity: identity, state: timeline.current),
            to: RowSituation(isOn: change.isOn, identity: identity, state: timeline.current))
    }

    /// What one fact at `key` does to the rows: closes the open row when the row's content changes or it stops
    /// being shown, and opens the next when it is shown. Identical values change nothing.
    mutating func step(at key: ChangeKey, from before: RowSituation, to after: RowSituation) {
        let changed = before.state != after.state || before.identity != after.identity
        if before.isShown && (!after.isShown || changed) { closeOpenRow(at: key) }
        if let identity = after.identity, after.isShown && (!before.isShown || changed) {
            rows.append(StoredRow(start: key, end: nil, state: after.state, identity: identity))
        }
    }

    mutating func closeOpenRow(at key: ChangeKey) {
        if let last = rows.indices.last, rows[last].end == nil { rows[last].end = key }
    }

    /// Regenerates the rows from `key` on, as in-order arrival would have produced them.
    ///
    /// Rows that started before `key` were produced by earlier facts and stay; the one open at `key` is reopened;
    /// then the timeline, the identity changes and the switches from `key` on are swept in order.
    mutating func regenerate(from key: ChangeKey, switches: [ReportingSwitch]) {
        while let last = rows.last, !(last.start < key) { rows.removeLast() }
        if let last = rows.indices.last, let end = rows[last].end, !(end < key) { rows[last].end = nil }
        var entryIndex = timeline.firstIndex(notBefore: key)
        var switchIndex = switches.firstIndex { !($0.key < key) } ?? switches.count
        var identityIndex = identities.firstIndex { !($0.key < key) } ?? identities.count
        var situation = RowSituation(
            isOn: switchIndex > 0 ? switches[switchIndex - 1].isOn : false,
            identity: identity(before: identityIndex),
            state: timeline.state(before: entryIndex))
        let entries = timeline.entries
        while true {
            // The next fact by key among the three sorted sequences.
            var next: ChangeKey?
            if entryIndex < entries.count { next = entries[entryIndex].key }
            if switchIndex < switches.count, next.map({ switches[switchIndex].key < $0 }) ?? true {
                next = switches[switchIndex].key
            }
            if identityIndex < identities.count, next.map({ identities[identityIndex].key < $0 }) ?? true {
                next = identities[identityIndex].key
            }
            guard let at = next else { break }
            var after = situation
            if entryIndex < entries.count && entries[entryIndex].key == at {
                after.state.apply(entries[entryIndex].change)
                entryIndex += 1
            } else if switchIndex < switches.count && switches[switchIndex].key == at {
                after.isOn = switches[switchIndex].isOn
                switchIndex += 1
            } else {
                after.identity = identities[identityIndex].applied(to: after.identity)
                identityIndex += 1
            }
            step(at: at, from: situation, to: after)
            situation = after
        }
    }
}
