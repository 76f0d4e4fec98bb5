import CumulusDomain

/// One per-user fact that the user-state views order by ``ChangeKey``.
enum StateChange: Hashable, Sendable {
    /// Teams presence changed.
    case presence(Availability, Activity)
    /// The platform user state and responsibility profile changed.
    case userState(UserStateName, responsibilityProfile: String?)
    /// The user was removed from the tenant: every view stops here.
    case removed

    var isPresence: Bool { if case .presence = self { true } else { false } }
    var isUserState: Bool { if case .userState = self { true } else { false } }
}

extension StateChange: PayloadCodable {
    func encode(to writer: inout PayloadWriter) {
        switch self {
        case .presence(let availability, let activity):
            writer.writeByte(0)
            writer.write(availability)
            writer.write(activity)
        case .userState(let state, let profile):
            writer.writeByte(1)
            writer.write(state)
            writer.write(profile)
        case .removed:
            writer.writeByte(2)
        }
    }

    init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        switch try reader.readByte() {
        case 0: self = .presence(try reader.read(), try reader.read())
        case 1: self = .userState(try reader.read(), responsibilityProfile: try reader.read())
        case 2: self = .removed
        case let other: throw .unknownCode(other, type: "StateChange", at: reader.offset - 1)
        }
    }
}

/// A ``StateChange`` at its place in the user's history.
struct TimelineEntry: Hashable, Sendable {
    var key: ChangeKey
    var change: StateChange
}

extension TimelineEntry: PayloadCodable {
    func encode(to writer: inout PayloadWriter) {
        writer.write(key)
        writer.write(change)
    }

    init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        key = try reader.read()
        change = try reader.read()
    }
}
