import CumulusDomain
import CumulusLog

/// A projection that keeps per-user timelines in dense slots (the user-state report, time in state): the batch
/// path they share.
protocol UserKeyedProjection: Projection {
    /// The interned user-state names and profiles.
    var names: NameTable { get set }
    /// Where the touch loop leaves its (meaningless) sum, so that the loads are not optimised away.
    var sink: Int { get set }
    /// The slot of a known user.
    func slot(of user: UserID) -> Int?
    /// Loads what recording a fact will touch of the user in `slot` (its record, the tail of its history) and
    /// returns any value made from it.
    func touch(_ slot: Int) -> Int
    /// Records a feed fact of the user in `slot`.
    mutating func record(_ entry: TimelineEntry, slot: Int)
    /// Per user, the earliest late fact that landed before the in-memory history's horizon since the user's
    /// history was last rebuilt from the log.
    var historyRequests: [UserID: ChangeKey] { get set }
}

extension UserKeyedProjection {
    /// Notes that `entry` of `user` landed before `timeline`'s horizon, where dropped repeats may be missing.
    mutating func requestHistoryIfNeeded(_ entry: TimelineEntry, of user: UserID, in timeline: UserTimeline) {
        guard !timeline.placesExactly(entry.key) else { return }
        if let known = historyRequests[user], known < entry.key { return }
        historyRequests[user] = entry.key
    }

    /// Users whose history must be rebuilt from the log, sorted.
    public var usersNeedingHistory: [UserID] { historyRequests.keys.sorted() }

    /// The complete timeline of a user from its stream: every feed fact since its (last) creation, sorted by key,
    /// nothing dropped.
    static func completeTimeline(_ stream: [DecodedEvent], names: inout NameTable) -> UserTimeline {
        var start = 0
        for (index, item) in stream.enumerated() {
            if case .userCreated = item.decoded { start = index }
        }
        var entries: [TimelineEntry] = []
        for item in stream[start...] {
            let change: StateChange
            switch item.decoded {
            case .presenceChanged(let e): change = .presence(e.availability, e.activity)
            case .userStateChanged(let e):
                change = .userState(names.code(for: e.state.name), profile: names.code(for: e.responsibilityProfile))
            case .responsibilityProfileChanged(let e): change = .profile(names.code(for: e.responsibilityProfile))
            case .userRemoved: change = .removed
            default: continue
            }
            entries.append(TimelineEntry(key: ChangeKey(item.event), change: change))
        }
        entries.sort { $0.key < $1.key }
        return UserTimeline(restoring: entries, nextCompaction: max(UserTimeline.minimumCompaction, entries.count * 2))
    }
}

extension UserKeyedProjection {
    /// Folds a batch: the users of its feed facts are looked up first, all together, and their records and
    /// history tails touched; then the events are applied in order (a user created inside the batch is looked
    /// up again when its facts come). The lookups and touches do not depend on one another, so the processor
    /// has many cache misses in flight at once instead of one at a time.
    mutating func applyFeedBatch(_ batch: ArraySlice<DecodedEvent>) {
        batch.withUnsafeBufferPointer { events in
            var slots = [Int](repeating: -1, count: events.count)
            for index in events.indices {
                guard let user = events[index].feed?.user else { continue }
                slots[index] = slot(of: user) ?? -1
            }
            var touched = 0
            for slot in slots where slot >= 0 { touched &+= touch(slot) }
            sink = touched
            for index in events.indices {
                guard slots[index] >= 0, let kind = events[index].feed?.kind else {
                    apply(events[index].event, decoded: events[index].decoded)
                    continue
                }
                // Only plain fields are read from the event, and the payload is matched only for the names of a
                // user-state or profile change: matching or passing it whole copies it (and retains and releases
                // its strings) for every event.
                let change: StateChange
                switch kind {
                case .presence(let availability, let activity): change = .presence(availability, activity)
                case .removed: change = .removed
                case .userState:
                    guard case .userStateChanged(let e) = events[index].decoded else { continue }
                    change = .userState(
                        names.code(for: e.state.name), profile: names.code(for: e.responsibilityProfile))
                case .profile:
                    guard case .responsibilityProfileChanged(let e) = events[index].decoded else { continue }
                    change = .profile(names.code(for: e.responsibilityProfile))
                }
                let key = ChangeKey(
                    occurredAt: events[index].event.occurredAt.microsecondsSinceEpoch,
                    position: events[index].event.position.rawValue)
                record(TimelineEntry(key: key, change: change), slot: slots[index])
            }
        }
    }

    /// Records `decoded` if it is a feed fact of a known user; whether it was one (known or not).
    mutating func recordFeedFact(_ event: RecordedEvent, _ decoded: DomainEvent) -> Bool {
        let user: UserID
        let change: StateChange
        switch decoded {
        case .presenceChanged(let e): (user, change) = (e.user, .presence(e.availability, e.activity))
        case .userRemoved(let e): (user, change) = (e.user, .removed)
        case .userStateChanged(let e):
            guard slot(of: e.user) != nil else { return true }
            user = e.user
            change = .userState(names.code(for: e.state.name), profile: names.code(for: e.responsibilityProfile))
        case .responsibilityProfileChanged(let e):
            guard slot(of: e.user) != nil else { return true }
            user = e.user
            change = .profile(names.code(for: e.responsibilityProfile))
        default: return false
        }
        if let slot = slot(of: user) { record(TimelineEntry(key: ChangeKey(event), change: change), slot: slot) }
        return true
    }
}

extension Projection {
    /// Applies a batch, passing over presence and user-state changes at once: for projections they change
    /// nothing in (audit, licence counters).
    mutating func applyPassingOverFeedFacts(_ batch: ArraySlice<DecodedEvent>) {
        batch.withUnsafeBufferPointer { events in
            for index in events.indices {
                switch events[index].feed?.kind {
                case .presence, .userState: continue
                default: apply(events[index].event, decoded: events[index].decoded)
                }
            }
        }
    }
}

/// Gives `user` its dense slot: the slot `id` already has (the old record is replaced) or a new one at the end.
/// - Returns: the slot, and whether it is new.
@discardableResult
func place<User>(
    _ user: User, as id: UserID, index: inout UserSlots, users: inout [User]
) -> (slot: Int, isNew: Bool) {
    if let slot = index[id] {
        users[slot] = user
        return (slot, false)
    }
    index.set(id, slot: users.count)
    users.append(user)
    return (users.count - 1, true)
}

/// Each user's slot as a dictionary (for encoding, sorted by id): `users` holds one record per id, placed by
/// `place(_:as:index:users:)`.
func slotsByID<User>(_ users: [User], id: (User) -> UserID) -> [UserID: Int] {
    var slots: [UserID: Int] = [:]
    slots.reserveCapacity(users.count)
    for (slot, user) in users.enumerated() { slots[id(user)] = slot }
    return slots
}
