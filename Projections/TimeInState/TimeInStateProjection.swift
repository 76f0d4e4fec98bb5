public import CumulusDomain
public import CumulusLog

/// Time in state (domain.md §9): per user, the state at an instant and since when, and seconds per user state
/// and per presence availability within a window.
///
/// It keeps each user's timeline ordered by `occurredAt` (ties by position), so late events land where they
/// belong; queries fold the timeline. Whether a tenant may read it (`showTimeInState`) is checked at query
/// time by the caller through ``checkShown(for:)``; the data is kept whatever the switch says, so turning it on
/// shows the history.
public struct TimeInStateProjection: UserKeyedProjection {
    /// `time-in-state`.
    public static let name = "time-in-state"
    /// Bumped when the derivation changes (2: names interned, users in dense slots; 3: profile changes alone are
    /// recorded, "user state since" follows the state's name only; 4: users keep their creation instant, for the
    /// intervals' clipping to the user's life).
    public static let codeVersion: UInt32 = 4

    /// Each user's slot in ``users``: one hash lookup per event, then the timeline is changed in place.
    var userIndex = UserSlots()
    /// Users' identity and timeline, by slot.
    var users: [TrackedUser] = []
    var shown: [TenantID: Bool] = [:]
    /// Where the batch's touch loop leaves its (meaningless) sum, so that the loads are not optimised away.
    var sink = 0
    /// The user-state names and profiles the timelines refer to by code.
    var names = NameTable()
    /// Users whose late facts landed before their history's horizon, with the earliest such fact.
    var historyRequests: [UserID: ChangeKey] = [:]

    /// No users yet.
    public init() {}

    /// Folds one event.
    public mutating func apply(_ event: RecordedEvent, decoded: DomainEvent) {
        if recordFeedFact(event, decoded) { return }
        switch decoded {
        case .userCreated(let e):
            let user = TrackedUser(
                id: e.user, tenant: e.tenant, name: e.displayName.value, userPrincipalName: e.upn.value,
                createdAt: event.occurredAt.microsecondsSinceEpoch, timeline: UserTimeline())
            place(user, as: e.user, index: &userIndex, users: &users)
        case .dataPrivacySettingsChanged(let e):
            shown[e.tenant] = e.settings.showTimeInState
        case .userRenamed(let e):
            if let slot = userIndex[e.user] { users[slot].name = e.displayName.value }
        case .userPrincipalNameChanged(let e):
            if let slot = userIndex[e.user] { users[slot].userPrincipalName = e.upn.value }
        default: break
        }
    }

    /// Folds a batch: see `UserKeyedProjection.applyFeedBatch(_:)`.
    public mutating func apply(batch: ArraySlice<DecodedEvent>) { applyFeedBatch(batch) }

    func slot(of user: UserID) -> Int? { userIndex[user] }

    /// Loads the cache lines of the user's timeline that recording a fact reads (its entries' tail, its last key,
    /// the horizon).
    func touch(_ slot: Int) -> Int {
        Int(truncatingIfNeeded: users[slot].timeline.entries.last?.key.position ?? 0)
            &+ Int(truncatingIfNeeded: users[slot].timeline.lastKey?.position ?? 0)
            &+ Int(truncatingIfNeeded: users[slot].timeline.compactedBefore)
    }

    /// Places a feed fact of the user in `slot`.
    mutating func record(_ entry: TimelineEntry, slot: Int) {
        // Checked here first: handing the timeline over would retain and release its entries for every event.
        if !users[slot].timeline.placesExactly(entry.key) {
            requestHistoryIfNeeded(entry, of: users[slot].id, in: users[slot].timeline)
        }
        users[slot].timeline.insert(entry)
    }

    /// Replaces the user's timeline with the complete one from its stream, then drops old repeats again.
    public mutating func rebuildHistory(of user: UserID, from stream: [DecodedEvent]) {
        guard historyRequests.removeValue(forKey: user) != nil, let slot = userIndex[user] else { return }
        users[slot].timeline = Self.completeTimeline(stream, names: &names)
        users[slot].timeline.compact()
    }

    /// The user's timeline, if the user is known.
    func timeline(of user: UserID) -> UserTimeline? { userIndex[user].map { users[$0].timeline } }

    private func trackedUser(_ id: UserID) -> TrackedUser? { userIndex[id].map { users[$0] } }

    /// Whether `tenant` shows time in state (its `showTimeInState` setting, as of the last applied event).
    public func isShown(for tenant: TenantID) -> Bool { shown[tenant] ?? false }

    /// Refuses unless `tenant` shows time in state.
    /// - Throws: ``TimeInStateNotShown`` naming the tenant and the switch.
    public func checkShown(for tenant: TenantID) throws(TimeInStateNotShown) {
        guard isShown(for: tenant) else { throw TimeInStateNotShown(tenant: tenant) }
    }

    /// The tenant a user belongs to, if the user is known.
    public func tenant(of user: UserID) -> TenantID? { trackedUser(user)?.tenant }

    /// The users of `tenant`, ordered by name then id.
    public func users(in tenant: TenantID) -> [UserID] {
        users.filter { $0.tenant == tenant }
            .sorted { $0.name != $1.name ? $0.name < $1.name : $0.id < $1.id }
            .map(\.id)
    }

    /// The user's state at `instant` (changes that happened at or before it) and since when each part has lasted.
    public func snapshot(of userID: UserID, at instant: Timestamp) -> TimeInStateSnapshot? {
        guard let user = trackedUser(userID) else { return nil }
        let timeline = user.timeline
        let end = timeline.firstIndex(after: instant.microsecondsSinceEpoch)
        let state = timeline.state(before: end)
        var userStateSince: ChangeKey?
        var presenceSince: ChangeKey?
        var userStateDone = state.userState == 0 || state.isRemoved
        var presenceDone = state.availability == nil || state.isRemoved
        var index = end - 1
        while index >= 0 && !(userStateDone && presenceDone) {
            let entry = timeline.entries[index]
            switch entry.change {
            case .userState(let name, _) where !userStateDone:
                // "User state since" follows the state's name: a profile change alone does not reset it (§9).
                if name == state.userState {
                    userStateSince = entry.key
                } else {
                    userStateDone = true
                }
            case .presence(let availability, let activity) where !presenceDone:
                if availability == state.availability && activity == state.activity {
                    presenceSince = entry.key
                } else {
                    presenceDone = true
                }
            default: break
            }
            index -= 1
        }
        return TimeInStateSnapshot(
            user: userID, userName: user.name, instant: instant, state: names.agentState(state),
            userStateSince: userStateSince?.timestamp, presenceSince: presenceSince?.timestamp)
    }

    /// Seconds the user spent in each user state and each availability within `[from, to)`, counted up to
    /// `until` when it comes earlier.
    ///
    /// The state in force at the end of the history lasts until `to`, or until `until`: pass the report's as-of
    /// instant or now as `until`, so that a window reaching into the future counts no time that has not passed
    /// (the summary still names the window, `from` and `to`). Nothing counts after the user's removal.
    public func summary(
        of userID: UserID, from: Timestamp, to: Timestamp, until: Timestamp? = nil
    )
        -> TimeInStateSummary?
    {
        guard let user = trackedUser(userID) else { return nil }
        let windowStart = from.microsecondsSinceEpoch
        let windowEnd = min(to, until ?? to).microsecondsSinceEpoch
        var perUserState: [String: Int64] = [:]
        var perAvailability: [String: Int64] = [:]
        let entries = user.timeline.entries
        var index = user.timeline.firstIndex(after: windowStart)
        var state = user.timeline.state(before: index)
        var segmentStart = windowStart
        func close(at instant: Int64) {
            let length = min(instant, windowEnd) - max(segmentStart, windowStart)
            guard length > 0, !state.isRemoved else { return }
            if let name = names.name(state.userState) { perUserState[name, default: 0] += length }
            if let availability = state.availability?.rawValue { perAvailability[availability, default: 0] += length }
        }
        while index < entries.count && entries[index].key.occurredAt < windowEnd {
            let entry = entries[index]
            close(at: entry.key.occurredAt)
            state.apply(entry.change)
            segmentStart = entry.key.occurredAt
            index += 1
        }
        close(at: windowEnd)
        return TimeInStateSummary(
            tenant: user.tenant, user: userID, userName: user.name, userPrincipalName: user.userPrincipalName,
            from: from, to: to, secondsPerUserState: perUserState.mapValues { Double($0) / 1_000_000 },
            secondsPerAvailability: perAvailability.mapValues { Double($0) / 1_000_000 })
    }

    /// The user's stretches of unchanged state within `[from, to)`, in time order: each with its start, end and the
    /// state in force (values not known yet are nil; removal ends the last one). Identical repeats do not split a
    /// stretch; a change of anything the state holds (user state, profile, availability, activity) does.
    ///
    /// The state in force at the end of the history lasts until `to`: pass an instant no later than the as-of
    /// time or now. `nil` for an unknown user.
    public func segments(of userID: UserID, from: Timestamp, to: Timestamp) -> [TimeInStateSegment]? {
        guard let user = trackedUser(userID) else { return nil }
        let windowStart = from.microsecondsSinceEpoch
        let windowEnd = to.microsecondsSinceEpoch
        let entries = user.timeline.entries
        var index = user.timeline.firstIndex(after: windowStart)
        var state = user.timeline.state(before: index)
        var segmentStart = windowStart
        var result: [TimeInStateSegment] = []
        func close(at instant: Int64) {
            let end = min(instant, windowEnd)
            guard end > segmentStart, !state.isRemoved else { return }
            result.append(
                TimeInStateSegment(
                    start: Timestamp(microsecondsSinceEpoch: segmentStart), end: Timestamp(microsecondsSinceEpoch: end),
                    state: names.agentState(state)))
        }
        while index < entries.count && entries[index].key.occurredAt < windowEnd {
            var next = state
            next.apply(entries[index].change)
            if next != state {
                close(at: entries[index].key.occurredAt)
                segmentStart = max(entries[index].key.occurredAt, windowStart)
                state = next
            }
            index += 1
        }
        close(at: windowEnd)
        return result
    }

    /// The summaries of every user of `tenant` (or only `user`), ordered by user name; `until` as for
    /// ``summary(of:from:to:until:)``.
    public func summaries(
        tenant: TenantID, user: UserID? = nil, from: Timestamp, to: Timestamp, until: Timestamp? = nil
    ) -> [TimeInStateSummary] {
        let selected = user.map { [$0] } ?? users(in: tenant)
        return selected.compactMap { id in
            guard trackedUser(id)?.tenant == tenant else { return nil }
            return summary(of: id, from: from, to: to, until: until)
        }
    }
}

/// A user as time in state needs it: identity and ordered timeline.
///
/// The timeline, which every feed fact reads, comes first: it then lies on as few cache lines as possible.
struct TrackedUser: Hashable, Sendable {
    var timeline: UserTimeline
    var id: UserID
    var tenant: TenantID
    var name: String
    var userPrincipalName: String
    /// When the user was created (`occurredAt`, microseconds): the start of the user's life.
    var createdAt: Int64

    init(
        id: UserID, tenant: TenantID, name: String, userPrincipalName: String, createdAt: Int64, timeline: UserTimeline
    ) {
        self.timeline = timeline
        self.id = id
        self.tenant = tenant
        self.name = name
        self.userPrincipalName = userPrincipalName
        self.createdAt = createdAt
    }
}

extension TimeInStateProjection {
    /// Users (identity and timeline, names spelled out) and the per-tenant switch, sorted by id.
    public func encodeState() -> [UInt8] {
        var writer = PayloadWriter(capacity: 1024)
        writer.writeDictionary(slotsByID(users, id: \.id)) { writer, slot in
            let user = users[slot]
            writer.write(user.tenant)
            writer.write(user.name)
            writer.write(user.userPrincipalName)
            writer.writeVarInt(user.createdAt)
            writer.writeTimeline(user.timeline, names)
        }
        writer.writeDictionary(shown) { writer, isShown in writer.write(isShown) }
        writer.writeDictionary(historyRequests) { writer, key in writer.write(key) }
        return writer.bytes
    }

    /// Reads a state written by ``encodeState()``.
    /// - Throws: ``ProjectionStateError/corruptState(projection:reason:)``.
    public init(decodingState bytes: [UInt8]) throws(ProjectionStateError) {
        self = try decodeState(bytes, projection: Self.name) { reader throws(PayloadDecodingError) in
            var state = TimeInStateProjection()
            let userCount = try reader.readCount()
            state.users.reserveCapacity(userCount)
            for _ in 0..<userCount {
                let id: UserID = try reader.read()
                let user = TrackedUser(
                    id: id, tenant: try reader.read(), name: try reader.read(), userPrincipalName: try reader.read(),
                    createdAt: try reader.readVarInt(), timeline: try reader.readTimeline(&state.names))
                place(user, as: id, index: &state.userIndex, users: &state.users)
            }
            state.shown = try reader.readDictionary { reader throws(PayloadDecodingError) in try reader.readBool() }
            state.historyRequests = try reader.readDictionary { reader throws(PayloadDecodingError) in try reader.read()
            }
            return state
        }
    }
}
