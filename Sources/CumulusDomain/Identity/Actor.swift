/// The principal a command is performed by (domain.md §1).
///
/// Its canonical string (see ``description`` and ``init(canonical:)``) is what the log envelope
/// stores in its `actor` field, e.g. `systemAdmin`, `partnerAdmin:<partner>`, `ouAdmin:<tenant>/<ou>`.
public enum Actor: Hashable, Sendable, CustomStringConvertible {
    /// The platform operator; may do everything.
    case systemAdmin
    /// A multi-tenant administrator of the tenants assigned to that partner.
    case partnerAdmin(PartnerID)
    /// The administrator of one tenant.
    case tenantAdmin(TenantID)
    /// The administrator of an organisation unit and its sub-OUs.
    case ouAdmin(TenantID, OUID)
    /// A service administrator.
    case teamOwner(ServiceID)
    /// A service administrator with the reduced "Team Owner Limited" set of rights.
    case teamOwnerLimited(ServiceID)
    /// An agent of one service.
    case teamMember(ServiceID)
    /// May read user-state reports of one tenant.
    case userSupervisor(TenantID)
    /// The component that reads Teams presence of one tenant.
    case presenceFeed(TenantID)
    /// The provisioning PowerShell script run for one tenant.
    case provisioningScript(TenantID)
    /// A user acting on their own behalf (own user state, provisioning a service from Teams).
    case user(UserID)
    /// An unauthenticated guest or unknown principal; may do nothing.
    case guest

    /// The kind of actor, without its scope.
    public var kind: ActorKind {
        switch self {
        case .systemAdmin: .systemAdmin
        case .partnerAdmin: .partnerAdmin
        case .tenantAdmin: .tenantAdmin
        case .ouAdmin: .ouAdmin
        case .teamOwner: .teamOwner
        case .teamOwnerLimited: .teamOwnerLimited
        case .teamMember: .teamMember
        case .userSupervisor: .userSupervisor
        case .presenceFeed: .presenceFeed
        case .provisioningScript: .provisioningScript
        case .user: .user
        case .guest: .guest
        }
    }

    /// The canonical string form, e.g. `ouAdmin:<tenant>/<ou>`.
    public var description: String {
        switch self {
        case .systemAdmin: "systemAdmin"
        case .partnerAdmin(let partner): "partnerAdmin:\(partner)"
        case .tenantAdmin(let tenant): "tenantAdmin:\(tenant)"
        case .ouAdmin(let tenant, let ou): "ouAdmin:\(tenant)/\(ou)"
        case .teamOwner(let service): "teamOwner:\(service)"
        case .teamOwnerLimited(let service): "teamOwnerLimited:\(service)"
        case .teamMember(let service): "teamMember:\(service)"
        case .userSupervisor(let tenant): "userSupervisor:\(tenant)"
        case .presenceFeed(let tenant): "presenceFeed:\(tenant)"
        case .provisioningScript(let tenant): "provisioningScript:\(tenant)"
        case .user(let user): "user:\(user)"
        case .guest: "guest"
        }
    }

    /// Parses the canonical string form; `nil` when the kind is unknown or an id is malformed.
    ///
    /// ```swift
    /// Actor(canonical: "tenantAdmin:6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11")  // .tenantAdmin(…)
    /// ```
    public init?(canonical: String) {
        let parts = canonical.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let kind = ActorKind(rawValue: String(parts[0])) else { return nil }
        let argument = parts.count == 2 ? String(parts[1]) : nil
        switch kind {
        case .systemAdmin, .guest:
            guard argument == nil else { return nil }
            self = kind == .systemAdmin ? .systemAdmin : .guest
        case .ouAdmin:
            let ids = argument?.split(separator: "/", omittingEmptySubsequences: false) ?? []
            guard ids.count == 2, let tenant = TenantID(string: String(ids[0])), let ou = OUID(string: String(ids[1]))
            else { return nil }
            self = .ouAdmin(tenant, ou)
        case .partnerAdmin:
            guard let id = argument.flatMap(PartnerID.init(string:)) else { return nil }
            self = .partnerAdmin(id)
        case .tenantAdmin, .userSupervisor, .presenceFeed, .provisioningScript:
            guard let id = argument.flatMap(TenantID.init(string:)) else { return nil }
            switch kind {
            case .tenantAdmin: self = .tenantAdmin(id)
            case .userSupervisor: self = .userSupervisor(id)
            case .presenceFeed: self = .presenceFeed(id)
            default: self = .provisioningScript(id)
            }
        case .teamOwner, .teamOwnerLimited, .teamMember:
            guard let id = argument.flatMap(ServiceID.init(string:)) else { return nil }
            switch kind {
            case .teamOwner: self = .teamOwner(id)
            case .teamOwnerLimited: self = .teamOwnerLimited(id)
            default: self = .teamMember(id)
            }
        case .user:
            guard let id = argument.flatMap(UserID.init(string:)) else { return nil }
            self = .user(id)
        }
    }
}

/// The kind of an ``Actor`` without its scope; the raw value is the prefix of the canonical string.
public enum ActorKind: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// See ``Actor/systemAdmin``.
    case systemAdmin
    /// See ``Actor/partnerAdmin(_:)``.
    case partnerAdmin
    /// See ``Actor/tenantAdmin(_:)``.
    case tenantAdmin
    /// See ``Actor/ouAdmin(_:_:)``.
    case ouAdmin
    /// See ``Actor/teamOwner(_:)``.
    case teamOwner
    /// See ``Actor/teamOwnerLimited(_:)``.
    case teamOwnerLimited
    /// See ``Actor/teamMember(_:)``.
    case teamMember
    /// See ``Actor/userSupervisor(_:)``.
    case userSupervisor
    /// See ``Actor/presenceFeed(_:)``.
    case presenceFeed
    /// See ``Actor/provisioningScript(_:)``.
    case provisioningScript
    /// See ``Actor/user(_:)``.
    case user
    /// See ``Actor/guest``.
    case guest

    /// The raw value.
    public var description: String { rawValue }
}
