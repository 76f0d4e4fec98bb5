public import Foundation

/// The current state of a tenant, folded from its `tenant-<id>` stream.
public struct Tenant: Hashable, Sendable {
    /// The tenant id.
    public let id: TenantID
    /// Display name.
    public var name: String
    /// O365 domain.
    public var o365Domain: DNSName
    /// Azure tenant GUID.
    public var azureTenantID: UUID
    /// The assigned partner.
    public var partner: PartnerID?
    /// The root organisation unit.
    public let rootOU: OUID
    /// Where new users and services land unless an OU is given; starts as the root.
    public var defaultOU: OUID
    /// Commercial state; `trial` when created.
    public var state: TenantState
    /// `live` → `pendingDeletion` → `deleted`.
    public var lifecycle: Lifecycle
    /// Admin security groups.
    public var securityGroups: SecurityGroups
    /// Company name, CRM id, billing address.
    public var companyDetails: CompanyDetails
    /// The technical contact.
    public var technicalContact: TechnicalContact?
    /// Data-privacy settings.
    public var dataPrivacy: DataPrivacySettings
    /// Service-provisioning settings.
    public var provisioning: ProvisioningSettings
    /// Outbound settings.
    public var outbound: OutboundSettings
    /// Interact settings.
    public var interact: InteractSettings
    /// The Interact widget key.
    public var widgetKey: UUID
    /// Assistant settings.
    public var assistant: AssistantSettings
    /// Attendant Console settings.
    public var attendantConsole: AttendantConsoleSettings
    /// Presence-tracking settings.
    public var presenceTracking: PresenceTrackingSettings
    /// Whether the tenant admin granted presence consent.
    public var presenceTrackingPermissionGranted: Bool
    /// Instant-messaging settings.
    public var instantMessaging: InstantMessagingSettings
    /// External-task settings.
    public var externalTask: ExternalTaskSettings
    /// E-mail settings.
    public var email: EmailSettings
    /// The IANA time zone reporting intervals are aligned to; `UTC` until changed.
    public var timeZone: String
    /// Technical changes waiting for the next provisioning-script run.
    public var pendingScriptItems: [PendingScriptItem]
    /// Roles held in the tenant by Azure AD principals (OU administrators, user supervisors), sorted.
    public var roleAssignments: [RoleAssignment]

    /// A tenant as ``TenantCreated`` describes it, every setting at its default.
    public init(created event: TenantCreated) {
        id = event.tenant
        name = event.name
        o365Domain = event.o365Domain
        azureTenantID = event.azureTenantID
        partner = event.partner
        rootOU = event.rootOU
        defaultOU = event.rootOU
        state = event.state
        lifecycle = .live
        securityGroups = SecurityGroups()
        companyDetails = CompanyDetails()
        technicalContact = nil
        dataPrivacy = DataPrivacySettings()
        provisioning = ProvisioningSettings()
        outbound = OutboundSettings()
        interact = InteractSettings()
        widgetKey = event.widgetKey
        assistant = AssistantSettings()
        attendantConsole = AttendantConsoleSettings()
        presenceTracking = PresenceTrackingSettings()
        presenceTrackingPermissionGranted = false
        instantMessaging = InstantMessagingSettings()
        externalTask = ExternalTaskSettings()
        email = EmailSettings()
        timeZone = "UTC"
        pendingScriptItems = []
        roleAssignments = []
    }

    /// Whether commands by anyone but a systemAdmin, and presence events, are accepted.
    public var isOperational: Bool { lifecycle == .live && state.isOperational }

    /// Applies one event of the tenant's stream; events of other streams leave the state unchanged.
    public static func evolve(_ state: consuming Tenant?, _ event: DomainEvent) -> Tenant? {
        if case .tenantCreated(let created) = event { return Tenant(created: created) }
        guard var tenant = state else { return nil }
        switch event {
        case .tenantRenamed(let e): tenant.name = e.name
        case .o365DomainChanged(let e): tenant.o365Domain = e.o365Domain
        case .azureTenantIDChanged(let e): tenant.azureTenantID = e.azureTenantID
        case .securityGroupsChanged(let e): tenant.securityGroups = e.groups
        case .companyDetailsChanged(let e): tenant.companyDetails = e.details
        case .technicalContactChanged(let e): tenant.technicalContact = e.contact
        case .partnerAssigned(let e): tenant.partner = e.partner
        case .dataPrivacySettingsChanged(let e): tenant.dataPrivacy = e.settings
        case .provisioningSettingsChanged(let e): tenant.provisioning = e.settings
        case .defaultOUChanged(let e): tenant.defaultOU = e.ou
        case .outboundSettingsChanged(let e): tenant.outbound = e.settings
        case .interactSettingsChanged(let e): tenant.interact = e.settings
        case .widgetKeyRefreshed(let e): tenant.widgetKey = e.widgetKey
        case .assistantSettingsChanged(let e): tenant.assistant = e.settings
        case .attendantConsoleSettingsChanged(let e): tenant.attendantConsole = e.settings
        case .presenceTrackingSettingsChanged(let e): tenant.presenceTracking = e.settings
        case .presenceTrackingPermissionChanged(let e): tenant.presenceTrackingPermissionGranted = e.granted
        case .instantMessagingSettingsChanged(let e): tenant.instantMessaging = e.settings
        case .externalTaskSettingsChanged(let e): tenant.externalTask = e.settings
        case .emailSettingsChanged(let e): tenant.email = e.settings
        case .timeZoneChanged(let e): tenant.timeZone = e.timeZone
        case .tenantStateChanged(let e): tenant.state = e.state
        case .tenantDeletionRequested: tenant.lifecycle = .pendingDeletion
        case .tenantDeletionCompleted: tenant.lifecycle = .deleted
        case .provisioningScriptPushRequired(let e):
            if !tenant.pendingScriptItems.contains(e.item) { tenant.pendingScriptItems.append(e.item) }
        case .provisioningScriptRunRecorded(let e):
            if e.succeeded { tenant.pendingScriptItems = [] }
        case .roleAssigned(let e):
            let assignment = RoleAssignment(principal: e.principal, role: e.role, ou: e.ou)
            if !tenant.roleAssignments.contains(assignment) {
                tenant.roleAssignments.append(assignment)
                tenant.roleAssignments.sort()
            }
        case .roleRevoked(let e):
            tenant.roleAssignments.removeAll { $0 == RoleAssignment(principal: e.principal, role: e.role, ou: e.ou) }
        default: break
        }
        return tenant
    }
}
