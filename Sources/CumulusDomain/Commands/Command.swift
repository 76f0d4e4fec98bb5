public import Foundation

/// A request to change Cumulus, with raw inputs as they arrive (strings, integers); the decision
/// validates every field and records validated values in events.
///
/// Identifiers of new entities are part of the command so that deciding stays a pure function; the
/// import and the API edge generate them when the caller leaves them out.
public enum Command: Hashable, Sendable {
    /// Create a tenant (state `trial`) with its root OU.
    case createTenant(
        tenant: TenantID, name: String, o365Domain: String, azureTenantID: String, partner: PartnerID?, rootOU: OUID,
        rootOUName: String, widgetKey: UUID)
    /// Rename a tenant.
    case renameTenant(tenant: TenantID, name: String)
    /// Change the O365 domain.
    case changeO365Domain(tenant: TenantID, o365Domain: String)
    /// Change the Azure tenant id.
    case changeAzureTenantID(tenant: TenantID, azureTenantID: String)
    /// Set the security groups (`nil` clears one).
    case changeSecurityGroups(tenant: TenantID, partnerAdminGroup: String?, tenantAdminGroup: String?)
    /// Change company name/division, CRM id and billing address.
    case changeCompanyDetails(tenant: TenantID, companyName: String, crmID: String, billingAddress: BillingAddressInput)
    /// Set the technical contact (`nil` clears it).
    case changeTechnicalContact(tenant: TenantID, contact: TechnicalContactInput?)
    /// Assign a partner (`nil` unassigns).
    case assignPartner(tenant: TenantID, partner: PartnerID?)
    /// Change the data-privacy settings.
    case changeDataPrivacySettings(tenant: TenantID, settings: DataPrivacySettings)
    /// Change the service-provisioning settings.
    case changeProvisioningSettings(tenant: TenantID, settings: ProvisioningSettings)
    /// Set the default OU for new users and services.
    case setDefaultOU(tenant: TenantID, ou: OUID)
    /// Change the outbound settings.
    case changeOutboundSettings(tenant: TenantID, maxScheduledTasksPerService: Int)
    /// Change the Interact settings.
    case changeInteractSettings(
        tenant: TenantID, enabled: Bool, acsConnectionString: String?, o365UserID: String?,
        sessionRecoveryTimeoutSeconds: Int, authorization: InteractAuthorization)
    /// Replace the Interact widget key with `newKey`.
    case refreshWidgetKey(tenant: TenantID, newKey: UUID)
    /// Change the Assistant settings.
    case changeAssistantSettings(tenant: TenantID, useOwnACS: Bool, acsConnectionString: String?)
    /// Change the Attendant Console settings.
    case changeAttendantConsoleSettings(tenant: TenantID, graphFilter: String, teamVisibility: TeamVisibility)
    /// Change the presence-tracking settings.
    case changePresenceTrackingSettings(tenant: TenantID, enabled: Bool, account1: String?, account2: String?)
    /// Record the tenant admin's presence consent (or its withdrawal).
    case setPresenceTrackingPermission(tenant: TenantID, granted: Bool)
    /// Change the instant-messaging settings.
    case changeInstantMessagingSettings(
        tenant: TenantID, enabled: Bool, maxConcurrentPerService: Int, useOwnACS: Bool, acsConnectionString: String?,
        acsResourceID: String?)
    /// Change the external-task settings.
    case changeExternalTaskSettings(tenant: TenantID, maxConcurrentPerService: Int)
    /// Change the e-mail settings.
    case changeEmailSettings(tenant: TenantID, maxConcurrent: Int)
    /// Set the tenant's time zone (an IANA identifier such as `Europe/Zurich`) for reporting intervals.
    case changeTimeZone(tenant: TenantID, timeZone: String)
    /// Change the tenant state.
    case changeTenantState(tenant: TenantID, state: TenantState)
    /// Set the contingent of a licence kind.
    case setLicenceContingent(tenant: TenantID, kind: LicenceKind, contingent: Int)
    /// Request deletion; `confirmation` must be exactly `YES`.
    case requestTenantDeletion(tenant: TenantID, confirmation: String)
    /// Record a provisioning-script run; a successful run completes pending deletions.
    case recordProvisioningScriptRun(tenant: TenantID, succeeded: Bool)
    /// Create an OU under `parent`.
    case createOU(tenant: TenantID, ou: OUID, parent: OUID, name: String)
    /// Rename an OU.
    case renameOU(ou: OUID, name: String)
    /// Move an OU under `newParent`.
    case moveOU(ou: OUID, newParent: OUID)
    /// Delete an empty OU.
    case deleteOU(ou: OUID)
    /// Provision a service; `ou` defaults to the tenant's default OU, `owner` becomes its owner.
    case provisionService(
        tenant: TenantID, service: ServiceID, name: String, type: ServiceType, ou: OUID?, source: ProvisioningSource,
        owner: UserID?)
    /// Rename a service.
    case renameService(service: ServiceID, name: String)
    /// Move a service to another OU.
    case moveService(service: ServiceID, ou: OUID)
    /// Change a service's type (its type licence moves).
    case changeServiceType(service: ServiceID, type: ServiceType)
    /// Change a service's distribution settings.
    case changeDistributionSettings(service: ServiceID, settings: DistributionSettings)
    /// Assign a service feature licence.
    case assignServiceLicence(service: ServiceID, kind: LicenceKind)
    /// Release a service feature licence.
    case releaseServiceLicence(service: ServiceID, kind: LicenceKind)
    /// Request a service's deletion (completed by the next provisioning-script run).
    case requestServiceDeletion(service: ServiceID)
    /// Create a user; `ou` defaults to the tenant's default OU.
    case createUser(tenant: TenantID, user: UserID, upn: String, displayName: String, ou: OUID?)
    /// Remove a user (releases all its licences).
    case removeUser(user: UserID)
    /// Make a user a member of a service with a role (or change the role).
    case assignMembership(user: UserID, service: ServiceID, role: MembershipRole)
    /// Remove a user from a service.
    case removeMembership(user: UserID, service: ServiceID)
    /// Assign a user licence.
    case assignUserLicence(user: UserID, kind: LicenceKind)
    /// Release a user licence.
    case releaseUserLicence(user: UserID, kind: LicenceKind)
    /// Change a user's user state (`ACW`, `RONA` or a tenant-defined name) and responsibility profile.
    case changeUserState(user: UserID, state: String, responsibilityProfile: String?)
    /// Record a Teams presence change (activity `nil` = unknown, without presence tracking).
    case recordPresence(user: UserID, availability: Availability, activity: Activity?)
    /// Give an Azure AD principal (`oid`) a role in the tenant: OU administrator of `ou`, or user supervisor.
    case assignRole(tenant: TenantID, principal: UUID, role: AssignableRole, ou: OUID?)
    /// Withdraw a role given by ``assignRole(tenant:principal:role:ou:)``.
    case revokeRole(tenant: TenantID, principal: UUID, role: AssignableRole, ou: OUID?)
    /// Change a user's display name (1–256 characters).
    case renameUser(user: UserID, displayName: String)
    /// Change a user's UPN (unique among the tenant's live users, compared case-insensitively).
    case changeUserPrincipalName(user: UserID, upn: String)
    /// Move a user to another OU of its tenant.
    case moveUser(user: UserID, ou: OUID)
    /// Change a user's responsibility profile alone, keeping its user state (`nil` clears it).
    case changeResponsibilityProfile(user: UserID, responsibilityProfile: String?)

    /// The action the permission matrix checks.
    public var action: Action {
        switch self {
        case .createTenant: .createTenant
        case .renameTenant, .changeO365Domain, .changeAzureTenantID, .changeSecurityGroups: .changeTenantIdentity
        case .changeCompanyDetails, .changeTechnicalContact: .changeCompanyDetails
        case .assignPartner: .assignPartner
        case .changeDataPrivacySettings: .changeDataPrivacySettings
        case .changeProvisioningSettings, .setDefaultOU, .changeOutboundSettings, .changeInteractSettings,
            .refreshWidgetKey, .changeAssistantSettings, .changeAttendantConsoleSettings,
            .changePresenceTrackingSettings, .setPresenceTrackingPermission, .changeInstantMessagingSettings,
            .changeExternalTaskSettings, .changeEmailSettings, .changeTimeZone:
            .changeTenantSettings
        case .changeTenantState: .changeTenantState
        case .setLicenceContingent: .setLicenceContingent
        case .requestTenantDeletion: .requestTenantDeletion
        case .recordProvisioningScriptRun: .recordProvisioningScriptRun
        case .createOU: .createOU
        case .renameOU: .renameOU
        case .moveOU: .moveOU
        case .deleteOU: .deleteOU
        case .provisionService(_, _, _, _, _, let source, _):
            source == .teams ? .provisionServiceFromTeams : .provisionServiceFromBackend
        case .renameService, .moveService, .changeServiceType, .requestServiceDeletion: .changeServiceSettings
        case .changeDistributionSettings: .changeDistributionSettings
        case .assignServiceLicence, .releaseServiceLicence: .assignServiceLicence
        case .createUser: .createUser
        case .removeUser: .removeUser
        case .assignMembership, .removeMembership: .manageMembership
        case .assignUserLicence, .releaseUserLicence: .assignUserLicence
        case .changeUserState, .changeResponsibilityProfile: .changeUserState
        case .renameUser, .changeUserPrincipalName: .changeUser
        case .moveUser: .moveUser
        case .recordPresence: .appendPresence
        case .assignRole, .revokeRole: .manageRoles
        }
    }
}

/// A billing address as entered; validated by the decision.
public struct BillingAddressInput: Hashable, Sendable {
    /// Street address line 1.
    public var street1: String
    /// Street address line 2.
    public var street2: String
    /// Postal code.
    public var zip: String
    /// City.
    public var city: String
    /// ISO 3166-1 alpha-2 country code, if given.
    public var country: String?

    /// Creates the input (all lines empty by default).
    public init(street1: String = "", street2: String = "", zip: String = "", city: String = "", country: String? = nil)
    {
        self.street1 = street1
        self.street2 = street2
        self.zip = zip
        self.city = city
        self.country = country
    }
}

/// A technical contact as entered; validated by the decision.
public struct TechnicalContactInput: Hashable, Sendable {
    /// Name, 1–256 characters.
    public var name: String
    /// E-mail address.
    public var email: String?
    /// E.164 phone number.
    public var phone: String?
    /// SIP address `sip:user@host`.
    public var sipAddress: String?

    /// Creates the input.
    public init(name: String, email: String? = nil, phone: String? = nil, sipAddress: String? = nil) {
        self.name = name
        self.email = email
        self.phone = phone
        self.sipAddress = sipAddress
    }
}
