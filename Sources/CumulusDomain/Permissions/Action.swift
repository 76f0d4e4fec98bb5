/// What an actor tries to do; each command maps to one action, and the permission matrix of
/// domain.md §1 is a table keyed by action (see ``PermissionTable``).
public enum Action: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// Create a tenant.
    case createTenant
    /// Change tenant name, O365 domain, Azure tenant id or the two security-group GUIDs.
    case changeTenantIdentity
    /// Change company name/division, CRM id, billing address or technical contact.
    case changeCompanyDetails
    /// Assign (or unassign) a partner.
    case assignPartner
    /// Change data-privacy settings.
    case changeDataPrivacySettings
    /// Change provisioning, extension and modality settings (incl. default OU, widget key, presence consent).
    case changeTenantSettings
    /// Change the tenant state.
    case changeTenantState
    /// Set a licence contingent.
    case setLicenceContingent
    /// Request tenant deletion (with the confirmation `YES`).
    case requestTenantDeletion
    /// Record a provisioning-script run.
    case recordProvisioningScriptRun
    /// Create an organisation unit.
    case createOU
    /// Rename an organisation unit.
    case renameOU
    /// Move an organisation unit.
    case moveOU
    /// Delete an organisation unit.
    case deleteOU
    /// Provision a service from the Teams UI.
    case provisionServiceFromTeams
    /// Provision a service from the administration backend.
    case provisionServiceFromBackend
    /// Change service settings (name, OU, type) or request its deletion.
    case changeServiceSettings
    /// Change a service's distribution settings.
    case changeDistributionSettings
    /// Assign or release a service licence.
    case assignServiceLicence
    /// Create a user.
    case createUser
    /// Remove a user.
    case removeUser
    /// Rename a user or change its UPN.
    case changeUser
    /// Move a user to another OU (checked in the old and in the new OU).
    case moveUser
    /// Assign or release a user licence.
    case assignUserLicence
    /// Add a user to a service, change its role, or remove it.
    case manageMembership
    /// Change a user's user state.
    case changeUserState
    /// Append presence events.
    case appendPresence
    /// Read the user-state report.
    case readUserStateReport
    /// Assign or revoke a role held in the domain (OU administrator, user supervisor).
    case manageRoles

    /// The action's name.
    public var description: String { rawValue }
}
