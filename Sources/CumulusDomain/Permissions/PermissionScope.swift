/// What a permission check needs to know about the target of an action.
///
/// Built by the decision from the loaded state: the tenant and its partner, the OUs that contain the
/// target (for `ouAdmin`), the service and the target user's services (for team owners).
public struct PermissionScope: Hashable, Sendable {
    /// The tenant the action touches.
    public var tenant: TenantID?
    /// The partner the tenant is (or, for `createTenant`, will be) assigned to.
    public var tenantPartner: PartnerID?
    /// The OUs that contain the target, nearest first, up to the root. An `ouAdmin` is in scope when its
    /// own OU is among them, i.e. the target lies *below* its OU.
    public var containingOUs: [OUID]
    /// The service the action touches.
    public var service: ServiceID?
    /// The user the action touches.
    public var user: UserID?
    /// The services the target user is a member of.
    public var userServices: Set<ServiceID>
    /// Whether a `user` actor belongs to the tenant (for provisioning from Teams).
    public var actorIsTenantUser: Bool
    /// The tenant's "Allow service provisioning via MS Teams" setting.
    public var teamsProvisioningPolicy: ServiceProvisioningPolicy

    /// Creates a scope; every part defaults to "unknown / none".
    public init(
        tenant: TenantID? = nil, tenantPartner: PartnerID? = nil, containingOUs: [OUID] = [], service: ServiceID? = nil,
        user: UserID? = nil, userServices: Set<ServiceID> = [], actorIsTenantUser: Bool = false,
        teamsProvisioningPolicy: ServiceProvisioningPolicy = .everyone
    ) {
        self.tenant = tenant
        self.tenantPartner = tenantPartner
        self.containingOUs = containingOUs
        self.service = service
        self.user = user
        self.userServices = userServices
        self.actorIsTenantUser = actorIsTenantUser
        self.teamsProvisioningPolicy = teamsProvisioningPolicy
    }
}
