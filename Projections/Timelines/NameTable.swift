import CumulusDomain

/// User-state names and responsibility profiles as small integer codes, so that a timeline entry and a packed
/// state are plain values: copying them costs no reference counting and comparing them no string comparison.
///
/// Code 0 means "none"; a name's code is its index in ``names`` plus one. Codes are assigned in first-seen
/// order and never leave the projection: its stored state writes the names themselves, so equal views encode
/// to equal bytes whatever order the events arrived in.
struct NameTable: Sendable {
    /// The names, in code order (code = index + 1).
    private(set) var names: [String] = []
    private var codes: [String: UInt32] = [:]
    /// Names looked up lately, each at a place picked by its length and its first and last bytes (code 0:
    /// empty): the few user-state names and profiles of the feed are found here by one string comparison instead
    /// of hashing them into ``codes``, which also holds every user's display name.
    private var recent = [RecentName](repeating: RecentName(name: "", code: 0), count: 64)

    private struct RecentName: Sendable {
        var name: String
        var code: UInt32
    }

    /// The code of `name`, assigned on first sight.
    mutating func code(for name: String) -> UInt32 {
        let utf8 = name.utf8
        let place = (utf8.count &* 7 &+ Int(utf8.first ?? 0) &* 3 &+ Int(utf8.last ?? 0)) & (recent.count - 1)
        if recent[place].code != 0 && recent[place].name == name { return recent[place].code }
        let code: UInt32
        if let known = codes[name] {
            code = known
        } else {
            names.append(name)
            code = UInt32(truncatingIfNeeded: names.count)
            codes[name] = code
        }
        recent[place] = RecentName(name: name, code: code)
        return code
    }

    /// The code of `name`, or 0 for none.
    mutating func code(for name: String?) -> UInt32 {
        guard let name else { return 0 }
        return code(for: name)
    }

    /// The name behind `code`, or nil for 0 (or a code this table never gave out).
    func name(_ code: UInt32) -> String? {
        code == 0 || Int(code) > names.count ? nil : names[Int(code) - 1]
    }

    /// The public form of a packed state.
    func agentState(_ state: PackedState) -> AgentState {
        AgentState(
            userState: name(state.userState).map { UserStateName(name: $0) },
            responsibilityProfile: name(state.profile), availability: state.availability, activity: state.activity,
            isRemoved: state.isRemoved)
    }
}

/// What a report row and a timeline track of an agent, with names as ``NameTable`` codes: a plain value.
struct PackedState: Hashable, Sendable {
    /// The user state's code (0: none set yet).
    var userState: UInt32 = 0
    /// The responsibility profile's code (0: none).
    var profile: UInt32 = 0
    /// Teams availability, if presence was ever received.
    var availability: Availability?
    /// Teams activity, if presence was ever received.
    var activity: Activity?
    /// Whether the user was removed (the state ends there).
    var isRemoved = false

    /// Whether anything is known (a report row needs at least a user state or a presence).
    var isKnown: Bool { !isRemoved && (userState != 0 || availability != nil) }

    /// The state after `change`.
    mutating func apply(_ change: StateChange) {
        guard !isRemoved else { return }
        switch change {
        case .presence(let availability, let activity):
            self.availability = availability
            self.activity = activity
        case .userState(let state, let profile):
            userState = state
            self.profile = profile
        case .profile(let profile):
            self.profile = profile
        case .removed:
            self = PackedState(isRemoved: true)
        }
    }
}

extension PayloadWriter {
    /// Writes a name code as the name itself (optional string), so the bytes do not depend on code order.
    mutating func writeName(_ code: UInt32, _ names: NameTable) { write(names.name(code)) }

    /// Writes a packed state with its names spelled out.
    mutating func writeState(_ state: PackedState, _ names: NameTable) {
        writeName(state.userState, names)
        writeName(state.profile, names)
        write(state.availability)
        write(state.activity)
        write(state.isRemoved)
    }
}

extension PayloadReader {
    /// Reads a name written by `PayloadWriter.writeName(_:_:)` and returns its code in `names`.
    mutating func readName(_ names: inout NameTable) throws(PayloadDecodingError) -> UInt32 {
        let name: String? = try read()
        return names.code(for: name)
    }

    /// Reads a state written by `PayloadWriter.writeState(_:_:)`.
    mutating func readState(_ names: inout NameTable) throws(PayloadDecodingError) -> PackedState {
        PackedState(
            userState: try readName(&names), profile: try readName(&names), availability: try read(),
            activity: try read(), isRemoved: try read())
    }
}
