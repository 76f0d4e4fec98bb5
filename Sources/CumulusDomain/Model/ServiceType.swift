/// The type of a service (domain.md §4); each uses one licence of the same-named kind.
public enum ServiceType: String, StoredEnumeration {
    /// The default type; Teams-synced.
    case advancedRouting
    /// Teams-synced, with workflow flexibility.
    case enterpriseRouting
    /// Members assigned by hand, skill-based routing.
    case contactCenter

    /// Stored-code order (append-only).
    public static let storageOrder: [ServiceType] = [.advancedRouting, .enterpriseRouting, .contactCenter]

    /// The licence kind a service of this type uses.
    public var licenceKind: LicenceKind {
        switch self {
        case .advancedRouting: .advancedRouting
        case .enterpriseRouting: .enterpriseRouting
        case .contactCenter: .contactCenter
        }
    }

    /// Whether membership follows the Microsoft Teams team automatically.
    public var isTeamsSynced: Bool { self != .contactCenter }
}

/// Where a service was provisioned from.
public enum ProvisioningSource: String, StoredEnumeration {
    /// From the Microsoft Teams UI, subject to the tenant's `serviceProvisioningViaTeams` setting.
    case teams
    /// From the administration backend, by any admin or ouAdmin.
    case backend

    /// Stored-code order (append-only).
    public static let storageOrder: [ProvisioningSource] = [.teams, .backend]
}

/// The role of a user in a service.
public enum MembershipRole: String, StoredEnumeration {
    /// Service administrator.
    case teamOwner
    /// Service administrator with a reduced set of rights.
    case teamOwnerLimited
    /// An agent.
    case teamMember

    /// Stored-code order (append-only).
    public static let storageOrder: [MembershipRole] = [.teamOwner, .teamOwnerLimited, .teamMember]
}
