public import CumulusDomain
public import CumulusProjections
public import Foundation

/// Who is calling: the actors a verified token maps to (docs/domain.md, "Sign-in"), the union of whose
/// rights the caller has.
public struct Caller: Sendable, Hashable {
    /// Every actor the caller holds, most powerful first; empty for a guest.
    public var actors: [Actor]
    /// The Cumulus tenant the token's `tid` selects, if any.
    public var tenant: TenantID?
    /// The `Auditor` app role: read access to the log and audit of ``tenant`` (of all tenants for a systemAdmin).
    public var isAuditor: Bool
    /// The caller's object id (`oid`).
    public var objectID: UUID

    /// Creates a caller.
    public init(actors: [Actor], tenant: TenantID?, isAuditor: Bool, objectID: UUID) {
        self.actors = actors
        self.tenant = tenant
        self.isAuditor = isAuditor
        self.objectID = objectID
    }

    /// Whether the caller holds no right at all.
    public var isGuest: Bool { actors.isEmpty && !isAuditor }

    /// The actors' canonical strings, for messages.
    public var actorList: String { actors.isEmpty ? "guest" : actors.map(\.description).joined(separator: ", ") }

    /// Maps verified claims to actors against the current state.
    ///
    /// - `platformAdminGroups` ∩ `groups` → `systemAdmin`;
    /// - for each live tenant whose Partner Administration group is in `groups` and that has a partner →
    ///   `partnerAdmin(partner)`;
    /// - the tenant whose Azure id is `tid`: its Tenant Administration group in `groups` → `tenantAdmin`;
    ///   role assignments of `oid` in it → `ouAdmin(tenant, ou)` / `userSupervisor(tenant)`;
    ///   app role `PresenceFeed` → `presenceFeed`, `ProvisioningScript` → `provisioningScript`, `Auditor` →
    ///   auditor of that tenant;
    /// - `oid` a user of that tenant → the user's service memberships (`teamOwner`, `teamOwnerLimited`,
    ///   `teamMember`) and `user(oid)` (own user state, provisioning from Teams).
    public static func resolve(
        _ claims: AzureClaims, platformAdminGroups: Set<String>, state: CurrentStateProjection
    ) -> Caller {
        let groups = Set(claims.groups.map { $0.lowercased() })
        let tid = claims.tenantID.flatMap(UUID.init(uuidString:))
        let oid =
            claims.objectID.flatMap(UUID.init(uuidString:))
            ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        var actors: [Actor] = []
        if !groups.isDisjoint(with: platformAdminGroups) { actors.append(.systemAdmin) }
        var partners = Set<PartnerID>()
        var home: Tenant?
        for tenant in state.tenants.values where tenant.lifecycle != .deleted {
            if let group = tenant.securityGroups.partnerAdminGroup, groups.contains(Self.text(group)),
                let partner = tenant.partner
            {
                partners.insert(partner)
            }
            if let tid, tenant.azureTenantID == tid { home = tenant }
        }
        actors += partners.sorted().map { .partnerAdmin($0) }
        let roles = Set(claims.roles)
        if let home {
            if let group = home.securityGroups.tenantAdminGroup, groups.contains(Self.text(group)) {
                actors.append(.tenantAdmin(home.id))
            }
            for assignment in home.roleAssignments where assignment.principal == oid {
                switch assignment.role {
                case .ouAdministrator:
                    if let ou = assignment.ou { actors.append(.ouAdmin(home.id, ou)) }
                case .userSupervisor: actors.append(.userSupervisor(home.id))
                }
            }
            if let user = state.users[UserID(oid)], user.tenant == home.id, user.lifecycle == .live {
                for (service, role) in user.memberships.sorted(by: { $0.key < $1.key }) {
                    switch role {
                    case .teamOwner: actors.append(.teamOwner(service))
                    case .teamOwnerLimited: actors.append(.teamOwnerLimited(service))
                    case .teamMember: actors.append(.teamMember(service))
                    }
                }
                actors.append(.user(user.id))
            }
            if roles.contains("PresenceFeed") { actors.append(.presenceFeed(home.id)) }
            if roles.contains("ProvisioningScript") { actors.append(.provisioningScript(home.id)) }
        }
        return Caller(
            actors: actors, tenant: home?.id, isAuditor: home != nil && roles.contains("Auditor"), objectID: oid)
    }

    private static func text(_ uuid: UUID) -> String { uuid.uuidString.lowercased() }
}
