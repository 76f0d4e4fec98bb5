public import CumulusDomain
public import CumulusLog

/// Time in state (domain.md §9): per user, the state at an instant and since when, and seconds per user state
/// and per presence availability within a window.
///
/// It keeps each user's timeline ordered by `occurredAt` (ties by position), so late events land where they
/// belong; queries fold the timeline. Whether a tenant may read it (`showTimeInState`) is checked at query
/// time by the caller through ``checkShown(for:)``; the data is kept whatever the switch says, so turning it on
/// shows the history.
public struct TimeInStateProjection: Projection {
    /// `time-in-state`.
    public static let name = "time-in-state"
    /// Bumped when the derivation changes.
    public static let codeVersion: UInt32 = 1

    var users: [UserID: TrackedUser] = [:]
    var shown: [TenantID: Bool] = [:]

    /// No users yet.
    public init() {}

    /// Folds one event.
    public mutating func apply(_ event: RecordedEvent, decoded: DomainEvent) {
        switch decoded {
        case .presenceChanged(let e):
            users[e.user]?.timeline.insert(
                TimelineEntry(key: ChangeKey(event), change: .presence(e.availability, e.activity)))
        case .userStateChanged(let e):
            users[e.user]?.timeline.insert(
                TimelineEntry(
                    key: ChangeKey(event), change: .userState(e.state, responsibilityProfile: e.responsibilityProfile)))
        case .userRemoved(let e):
            users[e.user]?.timeline.insert(TimelineEntry(key: ChangeKey(event), change: .removed))
        case .userCreated(let e):
            users[e.user] = TrackedUser(
                tenant: e.tenant, name: e.displayName.value, userPrincipalName: e.upn.value, timeline: UserTimeline())
        case .dataPrivacySettingsChanged(let e):
            shown[e.tenant] = e.settings.showTimeInState
        default: break
        }
    }

    /// Whether `tenant` shows time in state (its `showTimeInState` setting, as of the last applied event).
    public func isShown(for tenant: TenantID) -> Bool { shown[tenant] ?? false }

    /// Refuses unless `tenant` shows time in state.
    /// - Throws: ``TimeInStateNotShown`` naming the tenant and the switch.
    public func checkShown(for tenant: TenantID) throws(TimeInStateNotShown) {
        guard isShown(for: tenant) else { throw TimeInStateNotShown(tenant: tenant) }
    }

    /// The tenant a user belongs to, if the user is known.
    public func tenant(of user: UserID) -> TenantID? { users[user]?.tenant }

    /// The users of `tenant`, ordered by name then id.
    public func users(in tenant: TenantID) -> [UserID] {
        users.filter { $0.value.tenant == tenant }
            .sorted { $0.value.name != $1.value.name ? $0.value.name < $1.value.name : $0.key < $1.key }
            .map(\.key)
    }

    /// The user's state at `instant` (changes that happened at or before it) and since when each part has lasted.
    public func snapshot(of userID: UserID, at instant: Timestamp) -> TimeInStateSnapshot? {
        guard let user = users[userID] else { return nil }
        let timeline = user.timeline
        let end = timeline.firstIndex(after: instant.microsecondsSinceEpoch)
        let state = timeline.state(before: end)
        var userStateSince: ChangeKey?
        var presenceSince: ChangeKey?
        var userStateDone = state.userState == nil || state.isRemoved
        var presenceDone = state.availability == nil || state.isRemoved
        var index = end - 1
        while index >= 0 && !(userStateDone && presenceDone) {
            let entry = timeline.entries[index]
            switch entry.change {
            case .userState(let name, let profile) where !userStateDone:
                if name == state.userState && profile == state.responsibilityProfile {
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
            user: userID, userName: user.name, instant: instant, state: state,
            userStateSince: userStateSince?.timestamp, presenceSince: presenceSince?.timestamp)
    }

    /// Seconds the user spent in each user state and each availability within `[from, to)`.
    ///
    /// The state in force at the end of the history lasts until `to` (pass the report's as-of instant or now
    /// as `to` so that the future is not counted); nothing counts after the user's removal.
    public func summary(of userID: UserID, from: Timestamp, to: Timestamp) -> TimeInStateSummary? {
        guard let user = users[userID] else { return nil }
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
            if let name = state.userState?.name { perUserState[name, default: 0] += length }
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
            guard users[id]?.tenant == tenant else { return nil }
            return summary(of: id, from: from, to: to)
        }
    }
}

/// A user as time in state needs it: identity and ordered timeline.
struct TrackedUser: Hashable, Sendable {
    var tenant: TenantID
    var name: String
    var userPrincipalName: String
    var timeline: UserTimeline
}

extension TimeInStateProjection {
    /// Users (identity and timeline) and the per-tenant switch, sorted by id.
    public func encodeState() -> [UInt8] {
        var writer = PayloadWriter(capacity: 1024)
        writer.writeDictionary(users) { writer, user in
            writer.write(user.tenant)
            writer.write(user.name)
            writer.write(user.userPrincipalName)
            writer.write(user.timeline)
        }
        writer.writeDictionary(shown) { writer, isShown in writer.write(isShown) }
        return writer.bytes
    }

    /// Reads a state written by ``encodeState()``.
    /// - Throws: ``ProjectionStateError/corruptState(projection:reason:)``.
    public init(decodingState bytes: [UInt8]) throws(ProjectionStateError) {
        self = try decodeState(bytes, projection: Self.name) { reader throws(PayloadDecodingError) in
            var state = TimeInStateProjection()
            state.users = try reader.readDictionary { reader throws(PayloadDecodingError) in
                TrackedUser(
                    tenant: try reader.read(), name: try reader.read(), userPrincipalName: try reader.read(),
                    timeline: try reader.read())
            }
            state.shown = try reader.readDictionary { reader throws(PayloadDecodingError) in try reader.readBool() }
            return state
        }
    }
}
