public import CumulusDomain
public import CumulusLog

/// Seconds one user spent in each user state and each presence availability within a window `[from, to)`.
public struct TimeInStateSummary: Hashable, Sendable {
    /// The tenant.
    public var tenant: TenantID
    /// The user.
    public var user: UserID
    /// The user's display name.
    public var userName: String
    /// The user's UPN.
    public var userPrincipalName: String
    /// The window's start (inclusive).
    public var from: Timestamp
    /// The window's end (exclusive).
    public var to: Timestamp
    /// Seconds per user-state name (`Available`, `Break`, `ACW`, …); time with no user state set is not counted.
    public var secondsPerUserState: [String: Double]
    /// Seconds per presence availability (`Available`, `Busy`, …); time before the first presence is not counted.
    public var secondsPerAvailability: [String: Double]

    /// Assembles a summary.
    public init(
        tenant: TenantID, user: UserID, userName: String, userPrincipalName: String, from: Timestamp, to: Timestamp,
        secondsPerUserState: [String: Double], secondsPerAvailability: [String: Double]
    ) {
        self.tenant = tenant
        self.user = user
        self.userName = userName
        self.userPrincipalName = userPrincipalName
        self.from = from
        self.to = to
        self.secondsPerUserState = secondsPerUserState
        self.secondsPerAvailability = secondsPerAvailability
    }
}

/// A user's state at an instant and how long each part of it has lasted.
public struct TimeInStateSnapshot: Hashable, Sendable {
    /// The user.
    public var user: UserID
    /// The user's display name.
    public var userName: String
    /// The instant the snapshot is for.
    public var instant: Timestamp
    /// User state, profile and presence at `instant`.
    public var state: AgentState
    /// Since when the user state's name has been unchanged (a profile change alone does not reset it), if one is set.
    public var userStateSince: Timestamp?
    /// Since when the presence (availability and activity) has been unchanged, if presence was received.
    public var presenceSince: Timestamp?

    /// Assembles a snapshot.
    public init(
        user: UserID, userName: String, instant: Timestamp, state: AgentState, userStateSince: Timestamp?,
        presenceSince: Timestamp?
    ) {
        self.user = user
        self.userName = userName
        self.instant = instant
        self.state = state
        self.userStateSince = userStateSince
        self.presenceSince = presenceSince
    }

    /// Seconds in the current user state at ``instant``.
    public var userStateElapsedSeconds: Double? { userStateSince.map { instant.seconds(since: $0) } }
    /// Seconds in the current presence at ``instant``.
    public var presenceElapsedSeconds: Double? { presenceSince.map { instant.seconds(since: $0) } }
}

/// A refused time-in-state query: the tenant's `showTimeInState` switch is off.
public struct TimeInStateNotShown: Error, Hashable, Sendable, CustomStringConvertible {
    /// The tenant whose switch is off.
    public var tenant: TenantID

    /// Names the tenant and the switch to turn on.
    public var description: String {
        "time in state is not shown for tenant \(tenant): its data-privacy setting `showTimeInState` is off; "
            + "a tenant admin can turn it on with changeDataPrivacySettings"
    }
}

/// A stretch of time during which a user's state did not change, clipped to the window it was read for.
public struct TimeInStateSegment: Hashable, Sendable {
    /// When it starts (inclusive).
    public var start: Timestamp
    /// When it ends (exclusive).
    public var end: Timestamp
    /// The user state, profile and presence in force (nil where nothing is known yet).
    public var state: AgentState

    /// Assembles a segment.
    public init(start: Timestamp, end: Timestamp, state: AgentState) {
        self.start = start
        self.end = end
        self.state = state
    }

    /// Its length in seconds.
    public var seconds: Double { end.seconds(since: start) }
}
