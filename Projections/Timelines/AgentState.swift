public import CumulusDomain

/// What a user-state report row shows of an agent: user state, responsibility profile and Teams presence.
///
/// Two equal values are "a repeated identical state": they start no new row or segment.
public struct AgentState: Hashable, Sendable {
    /// The platform user state, if one was ever set.
    public var userState: UserStateName?
    /// The responsibility profile that came with the user state.
    public var responsibilityProfile: String?
    /// Teams availability, if presence was ever received.
    public var availability: Availability?
    /// Teams activity, if presence was ever received.
    public var activity: Activity?
    /// Whether the user was removed from the tenant (the state ends there).
    public var isRemoved: Bool

    /// An agent with nothing known yet.
    public init(
        userState: UserStateName? = nil, responsibilityProfile: String? = nil, availability: Availability? = nil,
        activity: Activity? = nil, isRemoved: Bool = false
    ) {
        self.userState = userState
        self.responsibilityProfile = responsibilityProfile
        self.availability = availability
        self.activity = activity
        self.isRemoved = isRemoved
    }

    /// Whether anything is known (a report row needs at least a user state or a presence).
    public var isKnown: Bool { !isRemoved && (userState != nil || availability != nil) }
}

extension AgentState: PayloadCodable {
    /// Fields in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(userState)
        writer.write(responsibilityProfile)
        writer.write(availability)
        writer.write(activity)
        writer.write(isRemoved)
    }

    /// Fields in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        userState = try reader.read()
        responsibilityProfile = try reader.read()
        availability = try reader.read()
        activity = try reader.read()
        isRemoved = try reader.read()
    }
}
