import CumulusDomain

/// One user's presence and user-state changes, ordered by ``ChangeKey`` whatever order they arrived in.
///
/// In-order arrival appends (O(1)); a late change is inserted at its place by binary search. The state after
/// the last entry is cached so that the common case never scans the history.
struct UserTimeline: Hashable, Sendable {
    private(set) var entries: [TimelineEntry] = []
    /// The state after every entry.
    private(set) var current = PackedState()
    /// When the user was removed, if it was: removal is final, so nothing after it counts.
    private(set) var removedKey: ChangeKey?
    /// The entry count at which identical repeats older than the lateness horizon are next dropped.
    private(set) var nextCompaction = UserTimeline.minimumCompaction
    /// Repeats that happened before this instant (microseconds) may have been dropped: a late fact before it
    /// cannot be placed exactly from memory, and the user's history is rebuilt from the log instead.
    private(set) var compactedBefore = Int64.min

    /// How late an event may arrive and still be placed from memory: identical repeats older than this (relative
    /// to the user's newest change) are dropped, because only an even older late event could make them
    /// significant — and such an event makes the projection rebuild the user's history from the log.
    static let latenessHorizon: Int64 = 24 * 3_600 * 1_000_000
    static let minimumCompaction = 32

    /// The key of the last entry, kept beside the entries so that the in-order check of a new fact does not
    /// have to read the entries' storage (a cache miss per event when there are many users).
    private(set) var lastKey: ChangeKey?

    /// Whether a fact with `key` lands where the in-memory history is complete (after every dropped repeat).
    func placesExactly(_ key: ChangeKey) -> Bool { key.occurredAt >= compactedBefore }

    /// Inserts `entry` at its place and returns its index; `index == entries.count - 1` means it was appended.
    @discardableResult
    mutating func insert(_ entry: TimelineEntry) -> Int {
        if case .removed = entry.change, removedKey.map({ entry.key < $0 }) ?? true { removedKey = entry.key }
        if let lastKey, entry.key < lastKey {
            let index = firstIndex(notBefore: entry.key)
            entries.insert(entry, at: index)
            current = state(before: entries.count)
            return index
        }
        lastKey = entry.key
        entries.append(entry)
        current.apply(entry.change)
        if entries.count >= nextCompaction { compact() }
        return entries.count - 1
    }

    /// Drops identical repeats (a presence equal to the previous presence, a user state equal to the previous
    /// user state) older than ``latenessHorizon``; they change no view. Amortised O(1) per event: it runs when
    /// the timeline has doubled since the last run.
    mutating func compact() {
        guard let newest = entries.last?.key.occurredAt else { return }
        let cutoff = newest - Self.latenessHorizon
        var lastPresence: StateChange?
        // The user state and profile in force: a profile change alone between two equal user states makes the
        // second one significant again (it restores the profile).
        var lastUserState: UInt32?
        var lastProfile: UInt32?
        var kept: [TimelineEntry] = []
        for entry in entries {
            if entry.key.occurredAt < cutoff {
                switch entry.change {
                case .presence:
                    if entry.change == lastPresence { continue }
                    lastPresence = entry.change
                case .userState(let name, let profile):
                    if name == lastUserState && profile == lastProfile { continue }
                    (lastUserState, lastProfile) = (name, profile)
                case .profile(let profile):
                    if profile == lastProfile { continue }
                    lastProfile = profile
                case .removed: break
                }
            }
            kept.append(entry)
        }
        if kept.count < entries.count { compactedBefore = max(compactedBefore, cutoff) }
        entries = kept
        nextCompaction = max(Self.minimumCompaction, entries.count * 2)
    }

    /// The index of the first entry whose key is not before `key` (binary search).
    func firstIndex(notBefore key: ChangeKey) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].key < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The index of the first entry that happened after `instant` (microseconds).
    func firstIndex(after instant: Int64) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].key.occurredAt <= instant { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The state after the entries before `index`, found by scanning back to the last presence and user state.
    func state(before index: Int) -> PackedState {
        if let removedKey, index > 0, removedKey <= entries[index - 1].key { return PackedState(isRemoved: true) }
        var state = PackedState()
        var needPresence = true
        var needUserState = true
        var needProfile = true
        var cursor = index - 1
        while cursor >= 0 && (needPresence || needUserState || needProfile) {
            switch entries[cursor].change {
            case .removed:
                return PackedState(isRemoved: true)
            case .presence(let availability, let activity) where needPresence:
                state.availability = availability
                state.activity = activity
                needPresence = false
            case .userState(let name, let profile) where needUserState:
                state.userState = name
                if needProfile { state.profile = profile }
                needUserState = false
                needProfile = false
            case .profile(let profile) where needProfile:
                state.profile = profile
                needProfile = false
            default:
                break
            }
            cursor -= 1
        }
        return state
    }
}

extension PayloadWriter {
    /// Writes a timeline: its entries (names spelled out) and its compaction threshold.
    mutating func writeTimeline(_ timeline: UserTimeline, _ names: NameTable) {
        writeArray(timeline.entries) { writer, entry in writer.writeEntry(entry, names) }
        writeVarUInt(UInt64(timeline.nextCompaction))
        writeInt64(timeline.compactedBefore)
    }
}

extension PayloadReader {
    /// Reads a timeline written by `PayloadWriter.writeTimeline(_:_:)`; refuses entries out of order.
    mutating func readTimeline(_ names: inout NameTable) throws(PayloadDecodingError) -> UserTimeline {
        let entries = try readArray { reader throws(PayloadDecodingError) in try reader.readEntry(&names) }
        for index in entries.indices.dropFirst() where !(entries[index - 1].key < entries[index].key) {
            throw .malformed(at: offset, reason: "timeline entries out of order")
        }
        let nextCompaction = Int(truncatingIfNeeded: try readVarUInt())
        let compactedBefore = try readInt64()
        return UserTimeline(restoring: entries, nextCompaction: nextCompaction, compactedBefore: compactedBefore)
    }
}

extension UserTimeline {
    /// A timeline restored from sorted entries.
    init(restoring entries: [TimelineEntry], nextCompaction: Int, compactedBefore: Int64 = .min) {
        self.entries = entries
        self.compactedBefore = compactedBefore
        removedKey = entries.first { if case .removed = $0.change { true } else { false } }?.key
        self.nextCompaction = nextCompaction
        lastKey = entries.last?.key
        current = state(before: entries.count)
    }
}
