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
    /// Bumped when the derivation changes (2: names interned, users in dense slots; the views are unchanged;
    /// 3: users keep their creation instant, for the intervals' clipping to the user's life).
    public static let codeVersion: UInt32 = 3

    /// Each user's slot in ``users``: one hash lookup per event, then the timeline is changed in place.
    var userIndex: [UserID: Int] = [:]
    /// Users' identity and timeline, by slot.
    var users: [TrackedUser] = []
    var shown: [TenantID: Bool] = [:]
    /// Where the batch's touch loop leaves its (meaningless) sum, so that the loads are not optimised away.
    var sink = 0
    /// The user-state names and profiles the timelines refer to by code.
    var names = NameTable()

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
        default: break
        }
    }

    /// Folds a batch: see ``UserKeyedProjection/applyFeedBatch(_:)``.
    public mutating func apply(batch: ArraySlice<DecodedEvent>) { applyFeedBatch(batch) }

    func slot(of user: UserID) -> Int? { userIndex[user] }

    func touch(_ slot: Int) -> Int {
        Int(truncatingIfNeeded: users[slot].timeline.entries.last?.key.position ?? 0)
    }

    /// Places a feed fact of the user in `slot`.
    mutating func record(_ entry: TimelineEntry, slot: Int) {
        users[slot].timeline.insert(entry)
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
            case .userState(let name, let profile) where !userStateDone:
                if name == state.userState && profile == state.profile {
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

    /// Seconds the user spent in each user state and each availability within `[from, to)`.
    ///
    /// The state in force at the end of the history lasts until `to` (pass the report's as-of instant or now
    /// as `to` so that the future is not counted); nothing counts after the user's removal.
    public func summary(of userID: UserID, from: Timestamp, to: Timestamp) -> TimeInStateSummary? {
        guard let user = trackedUser(userID) else { return nil }
        let windowStart = from.microsecondsSinceEpoch
        let windowEnd = to.microsecondsSinceEpoch
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

    /// The summaries of every user of `tenant` (or only `user`), ordered by user name.
    public func summaries(tenant: TenantID, user: UserID? = nil, from: Timestamp, to: Timestamp) -> [TimeInStateSummary]
    {
        let selected = user.map { [$0] } ?? users(in: tenant)
        return selected.compactMap { id in
            guard trackedUser(id)?.tenant == tenant else { return nil }
            return summary(of: id, from: from, to: to)
        }
    }
}

/// A user as time in state needs it: identity and ordered timeline.
struct TrackedUser: Hashable, Sendable {
    var id: UserID
    var tenant: TenantID
    var name: String
    var userPrincipalName: String
    /// When the user was created (`occurredAt`, microseconds): the start of the user's life.
    var createdAt: Int64
    var timeline: UserTimeline
}

extension TimeInStateProjection {
    /// Users (identity and timeline, names spelled out) and the per-tenant switch, sorted by id.
    public func encodeState() -> [UInt8] {
        var writer = PayloadWriter(capacity: 1024)
        writer.writeDictionary(userIndex) { writer, slot in
            let user = users[slot]
            writer.write(user.tenant)
            writer.write(user.name)
            writer.write(user.userPrincipalName)
            writer.writeVarInt(user.createdAt)
            writer.writeTimeline(user.timeline, names)
        }
        writer.writeDictionary(shown) { writer, isShown in writer.write(isShown) }
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
            return state
        }
    }
}
