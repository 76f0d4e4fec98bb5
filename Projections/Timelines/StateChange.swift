import CumulusDomain

/// One per-user fact that the user-state views order by ``ChangeKey``; names are ``NameTable`` codes.
enum StateChange: Hashable, Sendable {
    /// Teams presence changed.
    case presence(Availability, Activity)
    /// The platform user state and responsibility profile changed (codes; profile 0 is none).
    case userState(UInt32, profile: UInt32)
    /// The responsibility profile alone changed (code; 0 is none); the user state stays.
    case profile(UInt32)
    /// The user was removed from the tenant: every view stops here.
    case removed

    var isPresence: Bool { if case .presence = self { true } else { false } }
    var isUserState: Bool { if case .userState = self { true } else { false } }
}

/// A ``StateChange`` at its place in the user's history.
struct TimelineEntry: Hashable, Sendable {
    var key: ChangeKey
    var change: StateChange
}

extension PayloadWriter {
    /// Writes a timeline entry with its names spelled out.
    mutating func writeEntry(_ entry: TimelineEntry, _ names: NameTable) {
        write(entry.key)
        switch entry.change {
        case .presence(let availability, let activity):
            writeByte(0)
            write(availability)
            write(activity)
        case .userState(let state, let profile):
            writeByte(1)
            writeString(names.name(state) ?? "")
            writeName(profile, names)
        case .removed:
            writeByte(2)
        case .profile(let profile):
            writeByte(3)
            writeName(profile, names)
        }
    }
}

extension PayloadReader {
    /// Reads an entry written by `PayloadWriter.writeEntry(_:_:)`.
    mutating func readEntry(_ names: inout NameTable) throws(PayloadDecodingError) -> TimelineEntry {
        let key: ChangeKey = try read()
        switch try readByte() {
        case 0: return TimelineEntry(key: key, change: .presence(try read(), try read()))
        case 1:
            let state = names.code(for: try readString())
            return TimelineEntry(key: key, change: .userState(state, profile: try readName(&names)))
        case 2: return TimelineEntry(key: key, change: .removed)
        case 3: return TimelineEntry(key: key, change: .profile(try readName(&names)))
        case let other: throw .unknownCode(other, type: "StateChange", at: offset - 1)
        }
    }
}
