/// The current state of a user, folded from its `user-<id>` stream.
public struct User: Hashable, Sendable {
    /// The user id.
    public let id: UserID
    /// The tenant it belongs to.
    public let tenant: TenantID
    /// Its organisation unit.
    public var ou: OUID
    /// User principal name (personal data).
    public var upn: PersonalData<String>
    /// Display name (personal data).
    public var displayName: PersonalData<String>
    /// `live`, or `deleted` once removed.
    public var lifecycle: Lifecycle
    /// Services and roles.
    public var memberships: [ServiceID: MembershipRole]
    /// Last availability.
    public var availability: Availability?
    /// Last activity.
    public var activity: Activity
    /// Current user state.
    public var userState: UserStateName?
    /// Current responsibility profile.
    public var responsibilityProfile: String?

    /// Applies one event of the user's stream.
    public static func evolve(_ state: consuming User?, _ event: DomainEvent) -> User? {
        if case .userCreated(let e) = event {
            return User(
                id: e.user, tenant: e.tenant, ou: e.ou, upn: e.upn, displayName: e.displayName, lifecycle: .live,
                memberships: [:], availability: nil, activity: .presenceUnknown, userState: nil,
                responsibilityProfile: nil)
        }
        guard var user = state else { return nil }
        apply(event, to: &user)
        return user
    }

    /// Folds `event` into an existing user in place, as ``evolve(_:_:)`` does for any event but `UserCreated`
    /// (which replaces the user: fold it with ``evolve(_:_:)``).
    static func apply(_ event: DomainEvent, to user: inout User) {
        switch event {
        case .userRemoved:
            user.lifecycle = .deleted
            user.memberships = [:]
        case .membershipAssigned(let e): user.memberships[e.service] = e.role
        case .membershipRemoved(let e): user.memberships[e.service] = nil
        case .presenceChanged(let e):
            user.availability = e.availability
            user.activity = e.activity
        case .userStateChanged(let e):
            user.userState = e.state
            user.responsibilityProfile = e.responsibilityProfile
        case .userRenamed(let e): user.displayName = e.displayName
        case .userPrincipalNameChanged(let e): user.upn = e.upn
        case .userMoved(let e): user.ou = e.to
        case .responsibilityProfileChanged(let e): user.responsibilityProfile = e.responsibilityProfile
        default: break
        }
    }

    /// Memberwise, for ``evolve(_:_:)``.
    init(
        id: UserID, tenant: TenantID, ou: OUID, upn: PersonalData<String>, displayName: PersonalData<String>,
        lifecycle: Lifecycle, memberships: [ServiceID: MembershipRole], availability: Availability?, activity: Activity,
        userState: UserStateName?, responsibilityProfile: String?
    ) {
        self.id = id
        self.tenant = tenant
        self.ou = ou
        self.upn = upn
        self.displayName = displayName
        self.lifecycle = lifecycle
        self.memberships = memberships
        self.availability = availability
        self.activity = activity
        self.userState = userState
        self.responsibilityProfile = responsibilityProfile
    }
}
