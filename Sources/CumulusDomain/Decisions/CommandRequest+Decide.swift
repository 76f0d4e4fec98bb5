extension CommandRequest {
    /// Decides the command against the loaded state: a pure function, no storage involved.
    ///
    /// Checks run in this order: the entity exists, the actor is permitted (§1), the tenant and entity
    /// are live and operational (§7), the fields are valid (§3), the invariants hold (uniqueness,
    /// licences, OU tree). Any refusal throws and nothing is appended.
    ///
    /// ```swift
    /// let decision = try request.decide(in: context)
    /// for change in decision.changes { /* append change.events to change.stream, atomically */ }
    /// ```
    /// - Throws: ``DomainError``.
    public func decide(in context: DecisionContext) throws(DomainError) -> Decision {
        switch command {
        case .createTenant, .renameTenant, .changeO365Domain, .changeAzureTenantID, .changeSecurityGroups,
            .changeCompanyDetails, .changeTechnicalContact, .assignPartner, .changeDataPrivacySettings,
            .changeProvisioningSettings, .setDefaultOU, .changeOutboundSettings, .changeInteractSettings,
            .refreshWidgetKey, .changeAssistantSettings, .changeAttendantConsoleSettings,
            .changePresenceTrackingSettings, .setPresenceTrackingPermission, .changeInstantMessagingSettings,
            .changeExternalTaskSettings, .changeEmailSettings, .changeTimeZone, .changeTenantState,
            .setLicenceContingent, .requestTenantDeletion, .recordProvisioningScriptRun, .assignRole, .revokeRole:
            try Tenant.decide(command, by: actor, in: context)
        case .createOU, .renameOU, .moveOU, .deleteOU:
            try OrganisationUnit.decide(command, by: actor, in: context)
        case .provisionService, .renameService, .moveService, .changeServiceType, .changeDistributionSettings,
            .assignServiceLicence, .releaseServiceLicence, .requestServiceDeletion:
            try Service.decide(command, by: actor, in: context)
        case .createUser, .removeUser, .assignMembership, .removeMembership, .assignUserLicence, .releaseUserLicence,
            .changeUserState, .recordPresence, .renameUser, .changeUserPrincipalName, .moveUser,
            .changeResponsibilityProfile:
            try User.decide(command, by: actor, in: context)
        }
    }
}

/// Checks shared by every decision.
enum DecisionGuards {
    /// The tenant `id` from the context.
    /// - Throws: ``DomainError/notFound(_:)``.
    static func tenant(_ id: TenantID, in context: DecisionContext) throws(DomainError) -> Tenant {
        guard let tenant = context.tenant, tenant.id == id else { throw .notFound(.tenant(id)) }
        return tenant
    }

    /// The facts of the tenant `id` that the guards and a user's commands read, taken from the context in place.
    ///
    /// `context.tenant?.facts` reads the stored tenant without copying it; a `Tenant` taken out of the context is
    /// a copy of every setting (a retain and a release per string), which by `perf` was about a third of
    /// `User.decide`'s samples in an import of the demo world.
    /// - Throws: ``DomainError/notFound(_:)``.
    static func tenantFacts(_ id: TenantID, in context: DecisionContext) throws(DomainError) -> TenantFacts {
        guard let facts = context.tenant?.facts, facts.id == id else { throw .notFound(.tenant(id)) }
        return facts
    }

    /// Refuses unless the tenant is live and, for anyone but a systemAdmin, operational (§7).
    /// - Throws: ``DomainError/notLive(_:_:)`` or ``DomainError/tenantNotOperational(_:_:)``.
    static func usable(_ tenant: Tenant, by actor: Actor) throws(DomainError) {
        try usable(tenant.facts, by: actor)
    }

    /// `usable(_:by:)` on a tenant's facts.
    static func usable(_ tenant: TenantFacts, by actor: Actor) throws(DomainError) {
        guard tenant.lifecycle == .live else { throw .notLive(.tenant(tenant.id), tenant.lifecycle) }
        guard tenant.state.isOperational || actor == .systemAdmin else {
            throw .tenantNotOperational(tenant.id, tenant.state)
        }
    }

    /// The permission scope of an action on the tenant itself.
    static func scope(of tenant: Tenant) -> PermissionScope { scope(of: tenant.facts) }

    /// `scope(of:)` from a tenant's facts.
    static func scope(of tenant: TenantFacts) -> PermissionScope {
        PermissionScope(
            tenant: tenant.id, tenantPartner: tenant.partner, teamsProvisioningPolicy: tenant.teamsProvisioningPolicy)
    }
}

/// The few facts of a tenant that the decision guards and a user's commands read: small values, copied without
/// retaining anything of the tenant's settings.
struct TenantFacts {
    let id: TenantID
    let defaultOU: OUID
    let partner: PartnerID?
    let teamsProvisioningPolicy: ServiceProvisioningPolicy
    let lifecycle: Lifecycle
    let state: TenantState
    let presenceTrackingEnabled: Bool
}

extension Tenant {
    /// Its ``TenantFacts``.
    var facts: TenantFacts {
        TenantFacts(
            id: id, defaultOU: defaultOU, partner: partner,
            teamsProvisioningPolicy: provisioning.serviceProvisioningViaTeams, lifecycle: lifecycle, state: state,
            presenceTrackingEnabled: presenceTracking.enabled)
    }
}
