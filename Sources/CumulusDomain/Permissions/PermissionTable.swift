/// One way an actor can be allowed an action, relative to a ``PermissionScope``.
public enum Grant: String, Hashable, Sendable, CaseIterable {
    /// Any `systemAdmin`.
    case systemAdmin
    /// A `partnerAdmin` of the tenant's partner.
    case partnerAdminOfTenant
    /// The `tenantAdmin` of the tenant.
    case tenantAdminOfTenant
    /// An `ouAdmin` of the tenant whose OU contains the target (the target lies below its OU).
    case ouAdminAboveTarget
    /// The `teamOwner` of the service.
    case teamOwnerOfService
    /// The `teamOwnerLimited` of the service.
    case teamOwnerLimitedOfService
    /// A `teamOwner` of one of the target user's services.
    case teamOwnerOfUsersService
    /// The target user acting on their own behalf.
    case targetUserThemself
    /// A `user` of the tenant (the `everyone` policy of provisioning from Teams).
    case userOfTenant
    /// The tenant's `presenceFeed`.
    case presenceFeedOfTenant
    /// The tenant's `provisioningScript`.
    case provisioningScriptOfTenant
    /// The tenant's `userSupervisor`.
    case userSupervisorOfTenant

    /// Whether `actor` holds this grant within `scope`.
    func admits(_ actor: Actor, in scope: PermissionScope) -> Bool {
        switch (self, actor) {
        case (.systemAdmin, .systemAdmin): true
        case (.partnerAdminOfTenant, .partnerAdmin(let partner)): scope.tenantPartner == partner
        case (.tenantAdminOfTenant, .tenantAdmin(let tenant)): scope.tenant == tenant
        case (.ouAdminAboveTarget, .ouAdmin(let tenant, let ou)):
            scope.tenant == tenant && scope.containingOUs.contains(ou)
        case (.teamOwnerOfService, .teamOwner(let service)): scope.service == service
        case (.teamOwnerLimitedOfService, .teamOwnerLimited(let service)): scope.service == service
        case (.teamOwnerOfUsersService, .teamOwner(let service)): scope.userServices.contains(service)
        case (.targetUserThemself, .user(let user)): scope.user == user
        case (.userOfTenant, .user): scope.actorIsTenantUser
        case (.presenceFeedOfTenant, .presenceFeed(let tenant)): scope.tenant == tenant
        case (.provisioningScriptOfTenant, .provisioningScript(let tenant)): scope.tenant == tenant
        case (.userSupervisorOfTenant, .userSupervisor(let tenant)): scope.tenant == tenant
        default: false
        }
    }
}

/// One row of the permission matrix: who may perform an action, and the rule as the matrix words it.
public struct PermissionRule: Hashable, Sendable {
    /// The action.
    public let action: Action
    /// The grants any of which admits an actor.
    public let grants: [Grant]
    /// The rule's wording, quoted in refusals.
    public let rule: String
}

/// The permission matrix of domain.md §1 as data, and the check every decision runs first.
public enum PermissionTable {
    /// "admins": systemAdmin, partnerAdmin in scope, tenantAdmin of the tenant.
    static let admins: [Grant] = [.systemAdmin, .partnerAdminOfTenant, .tenantAdminOfTenant]

    /// Every action's rule. Provisioning from Teams is listed with the grants of its default policy
    /// (`everyone`); ``grants(for:in:)`` applies the tenant's actual policy.
    public static let rules: [Action: PermissionRule] = {
        let rows: [PermissionRule] = [
            PermissionRule(
                action: .createTenant, grants: [.systemAdmin, .partnerAdminOfTenant],
                rule: "systemAdmin; partnerAdmin for a tenant assigned to their partner"),
            PermissionRule(
                action: .changeTenantIdentity, grants: [.systemAdmin, .partnerAdminOfTenant],
                rule: "name, O365 domain, tenant ID and security groups: systemAdmin, partnerAdmin in scope"),
            PermissionRule(
                action: .changeCompanyDetails, grants: admins,
                rule: "company details and technical contact: admins (systemAdmin, partnerAdmin in scope, "
                    + "tenantAdmin)"),
            PermissionRule(
                action: .assignPartner, grants: [.systemAdmin], rule: "assigning a partner: systemAdmin only"),
            PermissionRule(
                action: .changeDataPrivacySettings, grants: [.systemAdmin, .tenantAdminOfTenant],
                rule: "data privacy: systemAdmin, tenantAdmin; a partner can never widen its own view"),
            PermissionRule(
                action: .changeTenantSettings, grants: admins,
                rule: "provisioning, extension and modality settings: admins"),
            PermissionRule(action: .changeTenantState, grants: [.systemAdmin], rule: "tenant state: systemAdmin only"),
            PermissionRule(
                action: .setLicenceContingent, grants: [.systemAdmin], rule: "licence contingents: systemAdmin only"),
            PermissionRule(
                action: .requestTenantDeletion, grants: [.systemAdmin, .partnerAdminOfTenant],
                rule: "tenant deletion: systemAdmin, partnerAdmin in scope"),
            PermissionRule(
                action: .recordProvisioningScriptRun, grants: [.provisioningScriptOfTenant],
                rule: "script runs are confirmed by the tenant's provisioningScript"),
            PermissionRule(
                action: .createOU, grants: admins + [.ouAdminAboveTarget], rule: "OUs: admins; ouAdmin below its own OU"
            ),
            PermissionRule(
                action: .renameOU, grants: admins + [.ouAdminAboveTarget], rule: "OUs: admins; ouAdmin below its own OU"
            ),
            PermissionRule(
                action: .moveOU, grants: admins + [.ouAdminAboveTarget], rule: "OUs: admins; ouAdmin below its own OU"),
            PermissionRule(
                action: .deleteOU, grants: admins + [.ouAdminAboveTarget], rule: "OUs: admins; ouAdmin below its own OU"
            ),
            PermissionRule(
                action: .provisionServiceFromTeams, grants: admins + [.ouAdminAboveTarget, .userOfTenant],
                rule: "provisioning from Teams: as the tenant's \"Allow service provisioning via MS Teams\" "
                    + "setting allows"),
            PermissionRule(
                action: .provisionServiceFromBackend, grants: admins + [.ouAdminAboveTarget],
                rule: "provisioning from the backend: any admin or ouAdmin, whatever the Teams setting"),
            PermissionRule(
                action: .changeServiceSettings, grants: admins + [.ouAdminAboveTarget, .teamOwnerOfService],
                rule: "service settings: admins, ouAdmin of the service's OU, teamOwner"),
            PermissionRule(
                action: .changeDistributionSettings,
                grants: admins + [.ouAdminAboveTarget, .teamOwnerOfService, .teamOwnerLimitedOfService],
                rule: "distribution settings: admins, ouAdmin of the service's OU, teamOwner, teamOwnerLimited"),
            PermissionRule(
                action: .assignServiceLicence, grants: admins + [.ouAdminAboveTarget, .teamOwnerOfService],
                rule: "service licences: admins, ouAdmin of the service's OU, teamOwner"),
            PermissionRule(
                action: .createUser, grants: admins + [.ouAdminAboveTarget],
                rule: "users: admins, ouAdmin of the user's OU"),
            PermissionRule(
                action: .removeUser, grants: admins + [.ouAdminAboveTarget],
                rule: "users: admins, ouAdmin of the user's OU"),
            PermissionRule(
                action: .changeUser, grants: admins + [.ouAdminAboveTarget],
                rule: "users: admins, ouAdmin of the user's OU"),
            PermissionRule(
                action: .moveUser, grants: admins + [.ouAdminAboveTarget],
                rule: "moving a user: whoever may create users in both OUs (admins, ouAdmin above both)"),
            PermissionRule(
                action: .assignUserLicence, grants: admins + [.ouAdminAboveTarget],
                rule: "user licences: admins, ouAdmin of the user's OU"),
            PermissionRule(
                action: .manageMembership, grants: admins + [.ouAdminAboveTarget, .teamOwnerOfService],
                rule: "memberships: admins, ouAdmin of the user's OU, teamOwner of the service"),
            PermissionRule(
                action: .changeUserState, grants: admins + [.targetUserThemself, .teamOwnerOfUsersService],
                rule: "user state: the user, a teamOwner of one of the user's services, admins"),
            PermissionRule(
                action: .appendPresence, grants: [.presenceFeedOfTenant], rule: "presence: the tenant's presenceFeed"),
            PermissionRule(
                action: .readUserStateReport, grants: [.userSupervisorOfTenant, .partnerAdminOfTenant],
                rule: "user-state report: userSupervisor; partnerAdmin (anonymised)"),
            PermissionRule(
                action: .manageRoles, grants: admins + [.ouAdminAboveTarget],
                rule: "roles: admins; an ouAdmin may make OU administrators of OUs below its own; user "
                    + "supervisors: admins"),
        ]
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.action, $0) })
    }()

    /// The rule of `action`.
    public static func rule(for action: Action) -> PermissionRule {
        // Every Action has a row (a test holds the table to that), so the fallback is never used.
        rules[action] ?? PermissionRule(action: action, grants: [], rule: "no rule: nobody")
    }

    /// The grants that apply to `action` in `scope`; only provisioning from Teams depends on the scope.
    public static func grants(for action: Action, in scope: PermissionScope) -> [Grant] {
        guard action == .provisionServiceFromTeams else { return rule(for: action).grants }
        switch scope.teamsProvisioningPolicy {
        case .everyone: return admins + [.ouAdminAboveTarget, .userOfTenant]
        case .tenantAndOUAdmins: return admins + [.ouAdminAboveTarget]
        case .tenantAdmins: return admins
        case .noOne: return []
        }
    }

    /// Whether `actor` may perform `action` in `scope`.
    public static func allows(_ actor: Actor, _ action: Action, in scope: PermissionScope) -> Bool {
        grants(for: action, in: scope).contains { $0.admits(actor, in: scope) }
    }

    /// Refuses unless `actor` may perform `action` in `scope`.
    /// - Throws: ``DomainError/permissionDenied(_:)`` naming actor, action and rule.
    public static func check(_ actor: Actor, _ action: Action, in scope: PermissionScope) throws(DomainError) {
        guard allows(actor, action, in: scope) else {
            var rule = rule(for: action).rule
            if action == .provisionServiceFromTeams { rule += " (currently `\(scope.teamsProvisioningPolicy)`)" }
            throw .permissionDenied(PermissionDenied(actor: actor, action: action, rule: rule))
        }
    }
}
