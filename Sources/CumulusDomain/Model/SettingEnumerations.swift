/// Who may provision a service from the Microsoft Teams UI (tenant provisioning setting).
public enum ServiceProvisioningPolicy: String, StoredEnumeration {
    /// Any user of the tenant (default).
    case everyone
    /// Tenant administrators (and platform/partner admins) and OU administrators.
    case tenantAndOUAdmins
    /// Tenant administrators (and platform/partner admins).
    case tenantAdmins
    /// Provisioning from Teams is disabled.
    case noOne

    /// Stored-code order (append-only).
    public static let storageOrder: [ServiceProvisioningPolicy] = [
        .everyone, .tenantAndOUAdmins, .tenantAdmins, .noOne,
    ]
}

/// The role the provisioning user gets in a service provisioned from Teams.
public enum DefaultTeamOwnerRole: String, StoredEnumeration {
    /// Full team settings and configuration rights (default).
    case teamOwner
    /// Reduced set of rights.
    case teamOwnerLimited

    /// Stored-code order (append-only).
    public static let storageOrder: [DefaultTeamOwnerRole] = [.teamOwner, .teamOwnerLimited]

    /// The membership role it grants.
    public var membershipRole: MembershipRole { self == .teamOwner ? .teamOwner : .teamOwnerLimited }
}

/// Whether an Interact session must present a token.
public enum InteractAuthorization: String, StoredEnumeration {
    /// The token is not verified (default).
    case none
    /// The token must be valid.
    case verifyToken
    /// The token must be valid and belong to the tenant.
    case verifyTokenAndTenant

    /// Stored-code order (append-only).
    public static let storageOrder: [InteractAuthorization] = [.none, .verifyToken, .verifyTokenAndTenant]
}

/// Which team members Attendant Console search shows.
public enum TeamVisibility: String, StoredEnumeration {
    /// Only services and their overall availability (default).
    case noMembers
    /// Members of services the attendant belongs to.
    case ownMembers
    /// All members of all services.
    case allMembers

    /// Stored-code order (append-only).
    public static let storageOrder: [TeamVisibility] = [.noMembers, .ownMembers, .allMembers]
}
