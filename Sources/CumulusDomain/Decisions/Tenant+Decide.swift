import Foundation

extension Tenant {
    /// The largest contingent a systemAdmin may set for one licence kind.
    public static let contingentRange = 0...1_000_000
    /// The exact text that confirms a tenant deletion.
    public static let deletionConfirmation = "YES"

    /// Decides a command on a tenant (details, settings, state, licences, deletion, script runs).
    ///
    /// Commands of other aggregates give an empty decision; ``CommandRequest/decide(in:)`` routes each
    /// command to its aggregate.
    /// - Throws: ``DomainError``.
    public static func decide(
        _ command: Command, by actor: Actor, in context: DecisionContext
    ) throws(DomainError)
        -> Decision
    {
        if case .createTenant(
            let id, let name, let domain, let azureID, let partner, let rootOU, let rootName, let key) =
            command
        {
            try PermissionTable.check(actor, .createTenant, in: PermissionScope(tenant: id, tenantPartner: partner))
            if context.tenant?.id == id { throw .alreadyExists(.tenant(id)) }
            let name = try FieldRules.text(name, field: "name")
            let domain = try DNSName(domain, field: "o365Domain")
            let azureTenantID = try FieldRules.guid(azureID, field: "tenantId")
            let rootName = try FieldRules.text(rootName, field: "rootOUName")
            try context.registry.checkFree(name: name, o365Domain: domain, azureTenantID: azureTenantID, for: id)
            return Decision(
                [
                    .tenantCreated(
                        TenantCreated(
                            tenant: id, name: name, o365Domain: domain, azureTenantID: azureTenantID, partner: partner,
                            rootOU: rootOU, widgetKey: key, state: .trial)),
                    .ouCreated(OUCreated(ou: rootOU, tenant: id, parent: nil, name: rootName)),
                    .licenceContingentSet(
                        LicenceContingentSet(
                            tenant: id, kind: .advancedRouting,
                            contingent: LicenceKind.advancedRouting.trialDefaultContingent)),
                    .tenantIdentityReserved(
                        TenantIdentityReserved(tenant: id, name: name, o365Domain: domain, azureTenantID: azureTenantID)
                    ),
                ],
                newStreams: [.tenant(id), .ou(rootOU), .licences(id)])
        }

        guard let id = command.tenantID else { return Decision([]) }
        let tenant = try DecisionGuards.tenant(id, in: context)
        if case .assignRole(_, let principal, let role, let ou) = command {
            return try decideRole(
                tenant, principal: principal, role: role, ou: ou, assign: true, by: actor, in: context)
        }
        if case .revokeRole(_, let principal, let role, let ou) = command {
            return try decideRole(
                tenant, principal: principal, role: role, ou: ou, assign: false, by: actor, in: context)
        }
        try PermissionTable.check(actor, command.action, in: DecisionGuards.scope(of: tenant))
        if case .recordProvisioningScriptRun(_, let succeeded) = command {
            return try recordScriptRun(tenant, succeeded: succeeded, by: actor, in: context)
        }
        try DecisionGuards.usable(tenant, by: actor)
        return Decision(try tenant.decideLive(command, in: context))
    }

    /// Decides a command on a live tenant the actor may act on.
    private func decideLive(_ command: Command, in context: DecisionContext) throws(DomainError) -> [DomainEvent] {
        switch command {
        case .renameTenant(_, let name):
            let name = try FieldRules.text(name, field: "name")
            if let holder = context.registry.holder(ofName: name, other: id) {
                throw .conflict(UniquenessConflict(field: "name", heldBy: holder))
            }
            return [.tenantRenamed(TenantRenamed(tenant: id, name: name)), reservation(name: name)]
        case .changeO365Domain(_, let domain):
            let domain = try DNSName(domain, field: "o365Domain")
            if let holder = context.registry.holder(ofDomain: domain, other: id) {
                throw .conflict(UniquenessConflict(field: "o365Domain", heldBy: holder))
            }
            return [
                .o365DomainChanged(O365DomainChanged(tenant: id, o365Domain: domain)), reservation(domain: domain),
                pushRequired(.o365DomainChanged),
            ]
        case .changeAzureTenantID(_, let azureID):
            let azureTenantID = try FieldRules.guid(azureID, field: "tenantId")
            if let holder = context.registry.holder(ofAzureTenantID: azureTenantID, other: id) {
                throw .conflict(UniquenessConflict(field: "tenantId", heldBy: holder))
            }
            return [
                .azureTenantIDChanged(AzureTenantIDChanged(tenant: id, azureTenantID: azureTenantID)),
                reservation(azureTenantID: azureTenantID), pushRequired(.azureTenantIDChanged),
            ]
        case .changeSecurityGroups(_, let partnerGroup, let tenantGroup):
            let groups = SecurityGroups(
                partnerAdminGroup: try partnerGroup.map { (g) throws(DomainError) in
                    try FieldRules.guid(g, field: "partnerAdminGroup")
                },
                tenantAdminGroup: try tenantGroup.map { (g) throws(DomainError) in
                    try FieldRules.guid(g, field: "tenantAdminGroup")
                })
            return [.securityGroupsChanged(SecurityGroupsChanged(tenant: id, groups: groups))]
        case .changeCompanyDetails(_, let companyName, let crmID, let address):
            let details = CompanyDetails(
                companyName: try FieldRules.text(companyName, field: "companyName", length: 0...256),
                crmID: try FieldRules.text(crmID, field: "crmId", length: 0...256),
                billingAddress: try Self.billingAddress(address))
            return [.companyDetailsChanged(CompanyDetailsChanged(tenant: id, details: details))]
        case .changeTechnicalContact(_, let input):
            let contact = try input.map { (input) throws(DomainError) in try Self.technicalContact(input) }
            return [.technicalContactChanged(TechnicalContactChanged(tenant: id, contact: contact))]
        case .assignPartner(_, let partner):
            return [.partnerAssigned(PartnerAssigned(tenant: id, partner: partner))]
        case .changeDataPrivacySettings(_, let settings):
            return [.dataPrivacySettingsChanged(DataPrivacySettingsChanged(tenant: id, settings: settings))]
        case .changeProvisioningSettings(_, let settings):
            return [.provisioningSettingsChanged(ProvisioningSettingsChanged(tenant: id, settings: settings))]
        case .setDefaultOU(_, let ou):
            _ = try context.liveOU(ou, of: id)
            return [.defaultOUChanged(DefaultOUChanged(tenant: id, ou: ou))]
        case .changeOutboundSettings(_, let maximum):
            let settings = OutboundSettings(
                maxScheduledTasksPerService: try FieldRules.number(
                    maximum, field: "outbound.maxScheduledTasksPerService",
                    range: OutboundSettings.maxScheduledTasksRange))
            return [.outboundSettingsChanged(OutboundSettingsChanged(tenant: id, settings: settings))]
        case .changeInteractSettings(_, let enabled, let connection, let o365UserID, let timeout, let authorization):
            let secret = try Self.connectionString(connection, field: "interact.acsConnectionString")
            if enabled, secret == nil {
                throw .validation(
                    ValidationFailure(
                        field: "interact.acsConnectionString", rule: "given when Interact is enabled"))
            }
            let settings = InteractSettings(
                enabled: enabled, acsConnectionString: secret,
                o365UserID: try o365UserID.map { (value) throws(DomainError) in
                    try FieldRules.guid(value, field: "interact.o365UserId")
                },
                sessionRecoveryTimeoutSeconds: try FieldRules.number(
                    timeout, field: "interact.sessionRecoveryTimeoutSeconds",
                    range: InteractSettings.sessionRecoveryTimeoutRange),
                authorization: authorization)
            return [.interactSettingsChanged(InteractSettingsChanged(tenant: id, settings: settings))]
        case .refreshWidgetKey(_, let key):
            return [.widgetKeyRefreshed(WidgetKeyRefreshed(tenant: id, widgetKey: key))]
        case .changeAssistantSettings(_, let useOwnACS, let connection):
            let secret = try Self.connectionString(connection, field: "assistant.acsConnectionString")
            if useOwnACS, secret == nil {
                throw .validation(
                    ValidationFailure(field: "assistant.acsConnectionString", rule: "given when useOwnAcs is true"))
            }
            let settings = AssistantSettings(useOwnACS: useOwnACS, acsConnectionString: secret)
            return [.assistantSettingsChanged(AssistantSettingsChanged(tenant: id, settings: settings))]
        case .changeAttendantConsoleSettings(_, let filter, let visibility):
            // The Graph filter is stored as given: the seed says it is not validated.
            let settings = AttendantConsoleSettings(graphFilter: filter, teamVisibility: visibility)
            return [.attendantConsoleSettingsChanged(AttendantConsoleSettingsChanged(tenant: id, settings: settings))]
        case .changePresenceTrackingSettings(_, let enabled, let account1, let account2):
            let settings = PresenceTrackingSettings(
                enabled: enabled,
                account1: try account1.map { (a) throws(DomainError) in
                    try EmailAddress(a, field: "presenceTracking.account1")
                },
                account2: try account2.map { (a) throws(DomainError) in
                    try EmailAddress(a, field: "presenceTracking.account2")
                })
            if enabled, !presenceTrackingPermissionGranted {
                throw .validation(
                    ValidationFailure(
                        field: "presenceTracking.enabled", rule: "enabled only after the permission was granted"))
            }
            if enabled, settings.account1 == nil, settings.account2 == nil {
                throw .validation(
                    ValidationFailure(field: "presenceTracking.enabled", rule: "enabled only with a presence account"))
            }
            return [.presenceTrackingSettingsChanged(PresenceTrackingSettingsChanged(tenant: id, settings: settings))]
        case .setPresenceTrackingPermission(_, let granted):
            return [.presenceTrackingPermissionChanged(PresenceTrackingPermissionChanged(tenant: id, granted: granted))]
        case .changeInstantMessagingSettings(_, let enabled, let maximum, let useOwnACS, let connection, let resource):
            let secret = try Self.connectionString(connection, field: "instantMessaging.acsConnectionString")
            if useOwnACS, secret == nil {
                throw .validation(
                    ValidationFailure(
                        field: "instantMessaging.acsConnectionString", rule: "given when useOwnAcs is true"))
            }
            let settings = InstantMessagingSettings(
                enabled: enabled,
                maxConcurrentPerService: try FieldRules.number(
                    maximum, field: "instantMessaging.maxConcurrentPerService",
                    range: InstantMessagingSettings.maxConcurrentRange),
                useOwnACS: useOwnACS, acsConnectionString: secret,
                acsResourceID: try resource.map { (r) throws(DomainError) in
                    try FieldRules.text(r, field: "instantMessaging.acsResourceId")
                })
            return [.instantMessagingSettingsChanged(InstantMessagingSettingsChanged(tenant: id, settings: settings))]
        case .changeExternalTaskSettings(_, let maximum):
            let settings = ExternalTaskSettings(
                maxConcurrentPerService: try FieldRules.number(
                    maximum, field: "externalTask.maxConcurrentPerService",
                    range: ExternalTaskSettings.maxConcurrentRange))
            return [.externalTaskSettingsChanged(ExternalTaskSettingsChanged(tenant: id, settings: settings))]
        case .changeEmailSettings(_, let maximum):
            let settings = EmailSettings(
                maxConcurrent: try FieldRules.number(
                    maximum, field: "email.maxConcurrent", range: EmailSettings.maxConcurrentRange))
            return [.emailSettingsChanged(EmailSettingsChanged(tenant: id, settings: settings))]
        case .changeTimeZone(_, let identifier):
            return [.timeZoneChanged(TimeZoneChanged(tenant: id, timeZone: try FieldRules.timeZone(identifier)))]
        case .changeTenantState(_, let state):
            return [.tenantStateChanged(TenantStateChanged(tenant: id, state: state))]
        case .setLicenceContingent(_, let kind, let contingent):
            // Lowering below usage is allowed: the counters then show the overage.
            let contingent = try FieldRules.number(contingent, field: "contingent", range: Self.contingentRange)
            return [.licenceContingentSet(LicenceContingentSet(tenant: id, kind: kind, contingent: contingent))]
        case .requestTenantDeletion(_, let confirmation):
            guard confirmation == Self.deletionConfirmation else { throw .deletionNotConfirmed }
            var events: [DomainEvent] = [
                .tenantDeletionRequested(TenantDeletionRequested(tenant: id)), pushRequired(.tenantDeletionRequested),
                .tenantIdentityReleased(TenantIdentityReleased(tenant: id)),
            ]
            for service in context.services.values.sorted(by: { $0.id < $1.id })
            where service.tenant == id && service.lifecycle == .live {
                events.append(.serviceDeletionRequested(ServiceDeletionRequested(service: service.id)))
            }
            return events
        default:
            return []
        }
    }

    /// Records a script run; a successful run completes every pending deletion and clears pending items.
    private static func recordScriptRun(
        _ tenant: Tenant, succeeded: Bool, by actor: Actor, in context: DecisionContext
    ) throws(DomainError) -> Decision {
        guard tenant.lifecycle != .deleted else { throw .notLive(.tenant(tenant.id), tenant.lifecycle) }
        if tenant.lifecycle == .live { try DecisionGuards.usable(tenant, by: actor) }
        var events: [DomainEvent] = [
            .provisioningScriptRunRecorded(ProvisioningScriptRunRecorded(tenant: tenant.id, succeeded: succeeded))
        ]
        guard succeeded else { return Decision(events) }
        let pool = context.pool(for: tenant.id)
        for service in context.services.values.sorted(by: { $0.id < $1.id })
        where service.tenant == tenant.id && service.lifecycle == .pendingDeletion {
            events.append(.serviceDeletionCompleted(ServiceDeletionCompleted(service: service.id)))
            events.append(.ouContentRemoved(OUContentRemoved(ou: service.ou, content: .service(service.id))))
            for kind in (pool.serviceLicences[service.id] ?? []).sorted(by: { $0.code < $1.code }) {
                events.append(
                    .serviceLicenceReleased(ServiceLicenceReleased(tenant: tenant.id, service: service.id, kind: kind)))
            }
        }
        if tenant.lifecycle == .pendingDeletion {
            events.append(.tenantDeletionCompleted(TenantDeletionCompleted(tenant: tenant.id)))
        }
        return Decision(events)
    }

    private func reservation(name: String? = nil, domain: DNSName? = nil, azureTenantID: UUID? = nil) -> DomainEvent {
        .tenantIdentityReserved(
            TenantIdentityReserved(
                tenant: id, name: name ?? self.name, o365Domain: domain ?? o365Domain,
                azureTenantID: azureTenantID ?? self.azureTenantID))
    }

    private func pushRequired(_ item: PendingScriptItem) -> DomainEvent {
        .provisioningScriptPushRequired(ProvisioningScriptPushRequired(tenant: id, item: item))
    }

    private static func connectionString(_ value: String?, field: String) throws(DomainError) -> Secret? {
        guard let value, !value.isEmpty else { return nil }
        return try Secret(acsConnectionString: value, field: field)
    }

    private static func billingAddress(_ input: BillingAddressInput) throws(DomainError) -> BillingAddress {
        BillingAddress(
            street1: try FieldRules.text(input.street1, field: "billingAddress.street1", length: 0...256),
            street2: try FieldRules.text(input.street2, field: "billingAddress.street2", length: 0...256),
            zip: try FieldRules.text(input.zip, field: "billingAddress.zip", length: 0...256),
            city: try FieldRules.text(input.city, field: "billingAddress.city", length: 0...256),
            country: try input.country.map { (c) throws(DomainError) in
                try CountryCode(c, field: "billingAddress.country")
            })
    }

    private static func technicalContact(_ input: TechnicalContactInput) throws(DomainError) -> TechnicalContact {
        TechnicalContact(
            name: PersonalData(try FieldRules.text(input.name, field: "technicalContact.name")),
            email: try input.email.map { (e) throws(DomainError) in
                PersonalData(try EmailAddress(e, field: "technicalContact.email"))
            },
            phone: try input.phone.map { (p) throws(DomainError) in
                PersonalData(try PhoneNumber(p, field: "technicalContact.phone"))
            },
            sipAddress: try input.sipAddress.map { (s) throws(DomainError) in
                PersonalData(try SIPAddress(s, field: "technicalContact.sipAddress"))
            })
    }
}

extension Command {
    /// The tenant a tenant-level command addresses; `nil` for commands addressing an OU, service or user.
    public var tenantID: TenantID? {
        switch self {
        case .createTenant(let tenant, _, _, _, _, _, _, _), .renameTenant(let tenant, _),
            .changeO365Domain(let tenant, _), .changeAzureTenantID(let tenant, _),
            .changeSecurityGroups(let tenant, _, _), .changeCompanyDetails(let tenant, _, _, _),
            .changeTechnicalContact(let tenant, _), .assignPartner(let tenant, _),
            .changeDataPrivacySettings(let tenant, _), .changeProvisioningSettings(let tenant, _),
            .setDefaultOU(let tenant, _), .changeOutboundSettings(let tenant, _),
            .changeInteractSettings(let tenant, _, _, _, _, _), .refreshWidgetKey(let tenant, _),
            .changeAssistantSettings(let tenant, _, _), .changeAttendantConsoleSettings(let tenant, _, _),
            .changePresenceTrackingSettings(let tenant, _, _, _), .setPresenceTrackingPermission(let tenant, _),
            .changeInstantMessagingSettings(let tenant, _, _, _, _, _), .changeExternalTaskSettings(let tenant, _),
            .changeEmailSettings(let tenant, _), .changeTimeZone(let tenant, _), .changeTenantState(let tenant, _),
            .setLicenceContingent(let tenant, _, _), .requestTenantDeletion(let tenant, _),
            .recordProvisioningScriptRun(let tenant, _), .createOU(let tenant, _, _, _),
            .provisionService(let tenant, _, _, _, _, _, _), .createUser(let tenant, _, _, _, _),
            .assignRole(let tenant, _, _, _), .revokeRole(let tenant, _, _, _):
            tenant
        default:
            nil
        }
    }
}
