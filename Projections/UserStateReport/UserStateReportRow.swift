public import CumulusDomain
public import CumulusLog

/// One row of the user-state report: an interval during which none of the shown columns changed.
public struct UserStateReportRow: Hashable, Sendable {
    /// The tenant.
    public var tenant: TenantID
    /// The user.
    public var user: UserID
    /// The user's display name during the row (a rename starts a new row).
    public var userName: String
    /// The user's UPN (shown masked to partners unless the tenant allows identifiers).
    public var userPrincipalName: String
    /// The user's organisation unit during the row (a move starts a new row).
    public var ou: OUID
    /// The organisation unit's name at the time the report was built.
    public var ouName: String
    /// The responsibility profile that came with the user state.
    public var responsibilityProfile: String?
    /// The platform user state (`Available`, `Break`, `ACW`, …), if one was set.
    public var userState: UserStateName?
    /// Teams availability, if presence was received.
    public var availability: Availability?
    /// Teams activity, if presence was received.
    public var activity: Activity?
    /// When the row started (UTC).
    public var start: Timestamp
    /// When the row ended; `nil` while it is open.
    public var end: Timestamp?
    /// Seconds from `start` to `end`; `nil` for an open row (so that the same query always gives the same bytes).
    public var durationSeconds: Double?

    /// Assembles a row.
    public init(
        tenant: TenantID, user: UserID, userName: String, userPrincipalName: String, ou: OUID, ouName: String,
        responsibilityProfile: String?, userState: UserStateName?, availability: Availability?, activity: Activity?,
        start: Timestamp, end: Timestamp?, durationSeconds: Double?
    ) {
        self.tenant = tenant
        self.user = user
        self.userName = userName
        self.userPrincipalName = userPrincipalName
        self.ou = ou
        self.ouName = ouName
        self.responsibilityProfile = responsibilityProfile
        self.userState = userState
        self.availability = availability
        self.activity = activity
        self.start = start
        self.end = end
        self.durationSeconds = durationSeconds
    }

    /// Whether the row is still open (the state continues).
    public var isOpen: Bool { end == nil }
}
