import CumulusDomain
import Foundation
import Testing

@Suite struct TenantDecisionTests {
    typealias W = TestWorld

    @Test func creationWritesFourStreamsWithDefaults() throws {
        var world = TestWorld()
        let decision = try world.run(W.createTenant())
        #expect(
            decision.changes.map(\.stream) == [.tenant(W.tenant), .ou(W.root), .licences(W.tenant), .tenantRegistry])
        #expect(decision.newStreams == [.tenant(W.tenant), .ou(W.root), .licences(W.tenant)])
        #expect(decision.changes.filter(\.isNewStream).count == 3)
        let tenant = world.tenantState
        #expect(tenant.state == .trial)
        #expect(tenant.lifecycle == .live)
        #expect(tenant.defaultOU == W.root)
        #expect(tenant.rootOU == W.root)
        #expect(tenant.partner == W.partner)
        #expect(tenant.dataPrivacy == DataPrivacySettings())
        #expect(!tenant.dataPrivacy.allowPartnerSeeUserIdentifiers && !tenant.dataPrivacy.showTimeInState)
        #expect(tenant.provisioning.serviceProvisioningViaTeams == .everyone)
        #expect(tenant.provisioning.defaultTeamOwnerRole == .teamOwner)
        #expect(tenant.outbound.maxScheduledTasksPerService == 20)
        #expect(!tenant.interact.enabled)
        #expect(tenant.interact.sessionRecoveryTimeoutSeconds == 20)
        #expect(tenant.interact.authorization == .none)
        #expect(!tenant.assistant.useOwnACS)
        #expect(tenant.attendantConsole.graphFilter.isEmpty)
        #expect(tenant.attendantConsole.teamVisibility == .noMembers)
        #expect(!tenant.presenceTracking.enabled && !tenant.presenceTrackingPermissionGranted)
        #expect(tenant.instantMessaging.maxConcurrentPerService == 20 && !tenant.instantMessaging.enabled)
        #expect(tenant.externalTask.maxConcurrentPerService == 20)
        #expect(tenant.email.maxConcurrent == 50)
        for kind in LicenceKind.allCases {
            #expect(world.pool.contingent(kind) == (kind == .advancedRouting ? 1 : 0), "\(kind)")
        }
        #expect(world.context.ous[W.root]?.isRoot == true)
    }

    @Test func creationValidatesFields() {
        var world = TestWorld()
        #expect(world.refusal(W.createTenant(name: ""))?.validationField == "name")
        #expect(world.refusal(W.createTenant(name: String(repeating: "n", count: 257)))?.validationField == "name")
        #expect(world.refusal(W.createTenant(domain: "contoso"))?.validationField == "o365Domain")
        #expect(world.refusal(W.createTenant(azureID: "not-a-guid"))?.validationField == "tenantId")
        #expect(world.refusal(W.createTenant(name: String(repeating: "n", count: 256))) == nil)
    }

    @Test func creationPermission() {
        var world = TestWorld()
        #expect(world.refusal(W.createTenant(), by: .tenantAdmin(W.tenant))?.isPermissionDenied == true)
        #expect(world.refusal(W.createTenant(), by: .partnerAdmin(W.otherPartner))?.isPermissionDenied == true)
        #expect(world.refusal(W.createTenant(), by: .guest)?.isPermissionDenied == true)
        #expect(world.refusal(W.createTenant(), by: .partnerAdmin(W.partner)) == nil)
    }

    @Test func nameDomainAndAzureIDAreUniqueAmongLiveTenants() throws {
        var world = try TestWorld.withTenant()
        let other = W.otherTenant
        let differentAzure = "1a0c7a4e-3f1b-4c55-8d7e-0c1d2e3f4a5b"
        #expect(
            world.refusal(
                W.createTenant(other, name: "CONTOSO", domain: "x.com", azureID: differentAzure, root: OUID(UUID())))
                == .conflict(UniquenessConflict(field: "name", heldBy: W.tenant)))
        #expect(
            world.refusal(
                W.createTenant(
                    other, name: "Other", domain: "Contoso.onmicrosoft.com", azureID: differentAzure, root: OUID(UUID())
                ))
                == .conflict(UniquenessConflict(field: "o365Domain", heldBy: W.tenant)))
        #expect(
            world.refusal(W.createTenant(other, name: "Other", domain: "x.com", root: OUID(UUID())))
                == .conflict(UniquenessConflict(field: "tenantId", heldBy: W.tenant)))
        #expect(world.refusal(W.createTenant()) == .alreadyExists(.tenant(W.tenant)))
        // Deleting the first tenant frees its identity.
        try world.run(.requestTenantDeletion(tenant: W.tenant, confirmation: "YES"))
        var fresh = world
        fresh.context.tenant = nil
        #expect(fresh.refusal(W.createTenant(other, root: OUID(UUID()))) == nil)
    }

    @Test func renamingChecksUniquenessAndUpdatesTheReservation() throws {
        var world = try TestWorld.withTenant()
        try world.run(.renameTenant(tenant: W.tenant, name: "Fabrikam"))
        #expect(world.tenantState.name == "Fabrikam")
        #expect(world.context.registry.holder(ofName: "fabrikam", other: W.otherTenant) == W.tenant)
        #expect(world.context.registry.holder(ofName: "Contoso", other: W.otherTenant) == nil)
    }

    @Test func restrictedFieldsAreForSystemAndPartnerAdminsOnly() throws {
        var world = try TestWorld.withTenant()
        let tenantAdmin = Actor.tenantAdmin(W.tenant)
        for command: Command in [
            .renameTenant(tenant: W.tenant, name: "X"), .changeO365Domain(tenant: W.tenant, o365Domain: "x.com"),
            .changeAzureTenantID(tenant: W.tenant, azureTenantID: UUID().uuidString),
            .changeSecurityGroups(tenant: W.tenant, partnerAdminGroup: nil, tenantAdminGroup: UUID().uuidString),
        ] {
            let error = world.refusal(command, by: tenantAdmin)
            #expect(error?.isPermissionDenied == true)
            #expect(error?.description.contains("changeTenantIdentity") == true)
        }
        try world.run(.changeO365Domain(tenant: W.tenant, o365Domain: "fabrikam.com"), by: .partnerAdmin(W.partner))
        #expect(world.tenantState.pendingScriptItems == [.o365DomainChanged])
        #expect(
            world.refusal(
                .changeCompanyDetails(tenant: W.tenant, companyName: "C", crmID: "1", billingAddress: .init()),
                by: tenantAdmin) == nil)
    }

    @Test func securityGroupsMustBeGUIDs() throws {
        var world = try TestWorld.withTenant()
        #expect(
            world.refusal(.changeSecurityGroups(tenant: W.tenant, partnerAdminGroup: "abc", tenantAdminGroup: nil))?
                .validationField == "partnerAdminGroup")
        let group = UUID()
        try world.run(
            .changeSecurityGroups(tenant: W.tenant, partnerAdminGroup: nil, tenantAdminGroup: group.uuidString))
        #expect(world.tenantState.securityGroups.tenantAdminGroup == group)
    }

    @Test func companyDetailsAndContactAreValidated() throws {
        var world = try TestWorld.withTenant()
        let long = String(repeating: "x", count: 257)
        #expect(
            world.refusal(
                .changeCompanyDetails(tenant: W.tenant, companyName: long, crmID: "", billingAddress: .init()))?
                .validationField == "companyName")
        #expect(
            world.refusal(
                .changeCompanyDetails(
                    tenant: W.tenant, companyName: "", crmID: "", billingAddress: .init(country: "XX")))?
                .validationField == "billingAddress.country")
        try world.run(
            .changeCompanyDetails(
                tenant: W.tenant, companyName: "", crmID: String(repeating: "x", count: 256),
                billingAddress: .init(city: "Bern", country: "CH")))
        #expect(world.tenantState.companyDetails.billingAddress.country?.code == "CH")
        let contact = TechnicalContactInput(
            name: "Anna", email: "anna@contoso.com", phone: "+41315550100", sipAddress: "sip:anna@contoso.com")
        var bad = contact
        bad.phone = "0315550100"
        #expect(
            world.refusal(.changeTechnicalContact(tenant: W.tenant, contact: bad))?.validationField
                == "technicalContact.phone")
        bad = contact
        bad.sipAddress = "anna@contoso.com"
        #expect(
            world.refusal(.changeTechnicalContact(tenant: W.tenant, contact: bad))?.validationField
                == "technicalContact.sipAddress")
        bad = contact
        bad.email = "anna"
        #expect(
            world.refusal(.changeTechnicalContact(tenant: W.tenant, contact: bad))?.validationField
                == "technicalContact.email")
        let decision = try world.run(
            .changeTechnicalContact(tenant: W.tenant, contact: contact), by: .tenantAdmin(W.tenant))
        #expect(decision.events.first?.dataSubject == .technicalContact(W.tenant))
        #expect(world.tenantState.technicalContact?.name.value == "Anna")
    }

    @Test func partnerAssignmentAndDataPrivacyPermissions() throws {
        var world = try TestWorld.withTenant()
        #expect(
            world.refusal(.assignPartner(tenant: W.tenant, partner: W.otherPartner), by: .partnerAdmin(W.partner))?
                .isPermissionDenied == true)
        let widen = Command.changeDataPrivacySettings(
            tenant: W.tenant, settings: DataPrivacySettings(allowPartnerSeeUserIdentifiers: true))
        #expect(world.refusal(widen, by: .partnerAdmin(W.partner))?.isPermissionDenied == true)
        try world.run(widen, by: .tenantAdmin(W.tenant))
        #expect(world.tenantState.dataPrivacy.allowPartnerSeeUserIdentifiers)
        try world.run(.assignPartner(tenant: W.tenant, partner: W.otherPartner))
        #expect(world.tenantState.partner == W.otherPartner)
        // The old partner is out of scope now.
        #expect(
            world.refusal(.renameTenant(tenant: W.tenant, name: "N"), by: .partnerAdmin(W.partner))?.isPermissionDenied
                == true)
    }

    /// (command builder, field, range) for every numeric setting.
    static let ranges: [(String, ClosedRange<Int>)] = [
        ("outbound.maxScheduledTasksPerService", 1...50), ("interact.sessionRecoveryTimeoutSeconds", 5...60),
        ("instantMessaging.maxConcurrentPerService", 1...50), ("externalTask.maxConcurrentPerService", 1...50),
        ("email.maxConcurrent", 1...200), ("contingent", 0...1_000_000),
    ]

    static func command(for field: String, value: Int) -> Command {
        switch field {
        case "outbound.maxScheduledTasksPerService":
            .changeOutboundSettings(tenant: W.tenant, maxScheduledTasksPerService: value)
        case "interact.sessionRecoveryTimeoutSeconds":
            .changeInteractSettings(
                tenant: W.tenant, enabled: false, acsConnectionString: nil, o365UserID: nil,
                sessionRecoveryTimeoutSeconds: value, authorization: .verifyToken)
        case "instantMessaging.maxConcurrentPerService":
            .changeInstantMessagingSettings(
                tenant: W.tenant, enabled: true, maxConcurrentPerService: value, useOwnACS: false,
                acsConnectionString: nil, acsResourceID: nil)
        case "externalTask.maxConcurrentPerService":
            .changeExternalTaskSettings(tenant: W.tenant, maxConcurrentPerService: value)
        case "email.maxConcurrent": .changeEmailSettings(tenant: W.tenant, maxConcurrent: value)
        default: .setLicenceContingent(tenant: W.tenant, kind: .email, contingent: value)
        }
    }

    @Test(arguments: ranges.map(\.0))
    func everyRangeBoundary(field: String) throws {
        let range = Self.ranges.first { $0.0 == field }!.1
        var world = try TestWorld.withTenant()
        for value in [range.lowerBound - 1, range.upperBound + 1] {
            let error = world.refusal(Self.command(for: field, value: value))
            #expect(error?.validationField == field, "\(field)=\(value) must be refused")
            #expect(error?.description.contains("between \(range.lowerBound) and \(range.upperBound)") == true)
        }
        for value in [range.lowerBound, range.upperBound] {
            #expect(world.refusal(Self.command(for: field, value: value)) == nil, "\(field)=\(value) must be accepted")
        }
        // Stored exactly, never clamped.
        let tenant = world.tenantState
        switch field {
        case "outbound.maxScheduledTasksPerService":
            #expect(tenant.outbound.maxScheduledTasksPerService == range.upperBound)
        case "interact.sessionRecoveryTimeoutSeconds":
            #expect(tenant.interact.sessionRecoveryTimeoutSeconds == range.upperBound)
        case "instantMessaging.maxConcurrentPerService":
            #expect(tenant.instantMessaging.maxConcurrentPerService == range.upperBound)
        case "externalTask.maxConcurrentPerService":
            #expect(tenant.externalTask.maxConcurrentPerService == range.upperBound)
        case "email.maxConcurrent": #expect(tenant.email.maxConcurrent == range.upperBound)
        default: #expect(world.pool.contingent(.email) == range.upperBound)
        }
    }

    static let connection = "endpoint=https://contoso-acs.communication.azure.com/;accesskey=S3CR3TKEY=="

    @Test func interactNeedsAConnectionStringAndNeverLeaksIt() throws {
        var world = try TestWorld.withTenant()
        let enable = { (connection: String?) in
            Command.changeInteractSettings(
                tenant: W.tenant, enabled: true, acsConnectionString: connection, o365UserID: nil,
                sessionRecoveryTimeoutSeconds: 20, authorization: .none)
        }
        #expect(world.refusal(enable(nil))?.validationField == "interact.acsConnectionString")
        let bad = world.refusal(enable("endpoint=http://x.com;accesskey=S3CR3TKEY=="))
        #expect(bad?.validationField == "interact.acsConnectionString")
        #expect(bad?.description.contains("S3CR3TKEY") == false)
        let decision = try world.run(enable(Self.connection), by: .tenantAdmin(W.tenant))
        #expect(world.tenantState.interact.enabled)
        #expect(!String(describing: decision).contains("S3CR3TKEY"))
        #expect(!String(describing: world.tenantState).contains("S3CR3TKEY"))
        #expect(world.tenantState.interact.acsConnectionString?.revealedForStorage == Self.connection)
        #expect(
            world.refusal(
                .changeInteractSettings(
                    tenant: W.tenant, enabled: false, acsConnectionString: nil, o365UserID: "x",
                    sessionRecoveryTimeoutSeconds: 20, authorization: .none))?
                .validationField == "interact.o365UserId")
    }

    @Test func widgetKeyRefreshReplacesTheKey() throws {
        var world = try TestWorld.withTenant()
        let old = world.tenantState.widgetKey
        let new = UUID()
        try world.run(.refreshWidgetKey(tenant: W.tenant, newKey: new), by: .tenantAdmin(W.tenant))
        #expect(world.tenantState.widgetKey == new && new != old)
    }

    @Test func assistantAndIMOwnACSNeedAConnectionString() throws {
        var world = try TestWorld.withTenant()
        #expect(
            world.refusal(.changeAssistantSettings(tenant: W.tenant, useOwnACS: true, acsConnectionString: nil))?
                .validationField == "assistant.acsConnectionString")
        try world.run(.changeAssistantSettings(tenant: W.tenant, useOwnACS: true, acsConnectionString: Self.connection))
        #expect(
            world.refusal(
                .changeInstantMessagingSettings(
                    tenant: W.tenant, enabled: true, maxConcurrentPerService: 20,
                    useOwnACS: true, acsConnectionString: "", acsResourceID: nil))?
                .validationField == "instantMessaging.acsConnectionString")
    }

    @Test func attendantConsoleFilterIsStoredAsGiven() throws {
        var world = try TestWorld.withTenant()
        let filter = "endsWith(userPrincipalName,'onmicrosoft.com') and preferredLanguage eq 'en-GB' ((("
        try world.run(
            .changeAttendantConsoleSettings(tenant: W.tenant, graphFilter: filter, teamVisibility: .ownMembers))
        #expect(world.tenantState.attendantConsole.graphFilter == filter)
    }

    @Test func presenceTrackingNeedsPermissionAndAnAccount() throws {
        var world = try TestWorld.withTenant()
        let enable = Command.changePresenceTrackingSettings(
            tenant: W.tenant, enabled: true, account1: "p1@luware.com", account2: nil)
        #expect(world.refusal(enable)?.validationField == "presenceTracking.enabled")
        try world.run(.setPresenceTrackingPermission(tenant: W.tenant, granted: true), by: .tenantAdmin(W.tenant))
        #expect(
            world.refusal(
                .changePresenceTrackingSettings(tenant: W.tenant, enabled: true, account1: nil, account2: nil))?
                .validationField == "presenceTracking.enabled")
        #expect(
            world.refusal(
                .changePresenceTrackingSettings(tenant: W.tenant, enabled: false, account1: "bad", account2: nil))?
                .validationField == "presenceTracking.account1")
        try world.run(enable)
        #expect(world.tenantState.presenceTracking.enabled)
    }

    @Test func onlySystemAdminChangesStateAndContingents() throws {
        var world = try TestWorld.withTenant()
        #expect(
            world.refusal(.changeTenantState(tenant: W.tenant, state: .active), by: .partnerAdmin(W.partner))?
                .isPermissionDenied == true)
        #expect(
            world.refusal(
                .setLicenceContingent(tenant: W.tenant, kind: .email, contingent: 5), by: .tenantAdmin(W.tenant))?
                .isPermissionDenied == true)
        try world.run(.changeTenantState(tenant: W.tenant, state: .active))
        #expect(world.tenantState.state == .active)
    }

    @Test(arguments: [TenantState.suspended, .expired, .canceled])
    func nonOperationalStatesRefuseEveryoneButSystemAdmin(state: TenantState) throws {
        var world = try TestWorld.withTenant()
        let user = try world.createUser()
        try world.run(.changeTenantState(tenant: W.tenant, state: state))
        #expect(!world.tenantState.isOperational)
        let refusals: [(Command, Actor)] = [
            (
                .changeCompanyDetails(tenant: W.tenant, companyName: "C", crmID: "", billingAddress: .init()),
                .tenantAdmin(W.tenant)
            ),
            (.renameTenant(tenant: W.tenant, name: "N"), .partnerAdmin(W.partner)),
            (.createOU(tenant: W.tenant, ou: OUID(UUID()), parent: W.root, name: "OU"), .tenantAdmin(W.tenant)),
            (.recordPresence(user: user, availability: .available, activity: nil), .presenceFeed(W.tenant)),
            (.changeUserState(user: user, state: "Break", responsibilityProfile: nil), .user(user)),
            (.requestTenantDeletion(tenant: W.tenant, confirmation: "YES"), .partnerAdmin(W.partner)),
        ]
        for (command, actor) in refusals {
            #expect(world.refusal(command, by: actor) == .tenantNotOperational(W.tenant, state), "\(command)")
        }
        #expect(
            world.refusal(.changeCompanyDetails(tenant: W.tenant, companyName: "C", crmID: "", billingAddress: .init()))
                == nil)
        try world.run(.changeTenantState(tenant: W.tenant, state: .active))
        #expect(
            world.refusal(
                .recordPresence(user: user, availability: .available, activity: nil), by: .presenceFeed(W.tenant))
                == nil)
    }

    @Test(arguments: [TenantState.trial, .active, .lab])
    func operationalStates(state: TenantState) throws {
        var world = try TestWorld.withTenant()
        try world.run(.changeTenantState(tenant: W.tenant, state: state))
        #expect(world.refusal(.renameTenant(tenant: W.tenant, name: "N"), by: .partnerAdmin(W.partner)) == nil)
    }

    @Test(arguments: ["", "yes", "Yes", "YES ", " YES", "Y", "NO", "YESS"])
    func deletionNeedsExactlyYES(confirmation: String) throws {
        var world = try TestWorld.withTenant()
        #expect(
            world.refusal(.requestTenantDeletion(tenant: W.tenant, confirmation: confirmation)) == .deletionNotConfirmed
        )
        #expect(world.tenantState.lifecycle == .live)
    }

    @Test func deletionIsForMultiTenantAdminsOnly() throws {
        var world = try TestWorld.withTenant()
        #expect(
            world.refusal(.requestTenantDeletion(tenant: W.tenant, confirmation: "YES"), by: .tenantAdmin(W.tenant))?
                .isPermissionDenied == true)
        #expect(
            world.refusal(.requestTenantDeletion(tenant: W.tenant, confirmation: "YES"), by: .partnerAdmin(W.partner))
                == nil)
    }

    @Test func deletionMarksTenantAndAllServicesPendingInOneMultiStreamDecision() throws {
        var world = try TestWorld.withTenant()
        try world.setContingent(.advancedRouting, 5)
        let services = [try world.provision(), try world.provision(), try world.provision()]
        let decision = try world.run(.requestTenantDeletion(tenant: W.tenant, confirmation: "YES"))
        let streams = Set(decision.changes.map(\.stream))
        #expect(streams.isSuperset(of: [.tenant(W.tenant), .tenantRegistry]))
        for service in services {
            #expect(streams.contains(.service(service)))
            #expect(world.context.services[service]?.lifecycle == .pendingDeletion)
        }
        #expect(world.tenantState.lifecycle == .pendingDeletion)
        #expect(world.tenantState.pendingScriptItems.contains(.tenantDeletionRequested))
        // Pending deletion: every further command is refused, even for a systemAdmin.
        #expect(
            world.refusal(.renameTenant(tenant: W.tenant, name: "Again"))
                == .notLive(.tenant(W.tenant), .pendingDeletion))
        #expect(
            world.refusal(.requestTenantDeletion(tenant: W.tenant, confirmation: "YES"))
                == .notLive(.tenant(W.tenant), .pendingDeletion))
        #expect(
            world.refusal(.renameService(service: services[0], name: "X"))
                == .notLive(.tenant(W.tenant), .pendingDeletion))
        #expect(
            world.refusal(.changeTenantState(tenant: W.tenant, state: .active))
                == .notLive(.tenant(W.tenant), .pendingDeletion))
    }

    @Test func scriptRunCompletesDeletionAndReleasesLicences() throws {
        var world = try TestWorld.withTenant()
        try world.setContingent(.interact, 1)
        let service = try world.provision()
        try world.run(.assignServiceLicence(service: service, kind: .interact))
        #expect(world.pool.used(.advancedRouting) == 1 && world.pool.used(.interact) == 1)
        try world.run(.requestTenantDeletion(tenant: W.tenant, confirmation: "YES"))
        #expect(
            world.refusal(.recordProvisioningScriptRun(tenant: W.tenant, succeeded: true), by: .systemAdmin)?
                .isPermissionDenied == true)
        try world.run(
            .recordProvisioningScriptRun(tenant: W.tenant, succeeded: false), by: .provisioningScript(W.tenant))
        #expect(world.tenantState.lifecycle == .pendingDeletion)
        try world.run(
            .recordProvisioningScriptRun(tenant: W.tenant, succeeded: true), by: .provisioningScript(W.tenant))
        #expect(world.tenantState.lifecycle == .deleted)
        #expect(world.tenantState.pendingScriptItems.isEmpty)
        #expect(world.context.services[service]?.lifecycle == .deleted)
        #expect(world.pool.used(.advancedRouting) == 0 && world.pool.used(.interact) == 0)
        #expect(
            world.refusal(
                .recordProvisioningScriptRun(tenant: W.tenant, succeeded: true), by: .provisioningScript(W.tenant))
                == .notLive(.tenant(W.tenant), .deleted))
    }

    @Test func pendingScriptItemsAreListedUntilARun() throws {
        var world = try TestWorld.withTenant()
        try world.run(.changeAzureTenantID(tenant: W.tenant, azureTenantID: UUID().uuidString))
        let service = try world.provision()
        #expect(world.tenantState.pendingScriptItems == [.azureTenantIDChanged, .serviceProvisioned(service)])
        try world.run(
            .recordProvisioningScriptRun(tenant: W.tenant, succeeded: true), by: .provisioningScript(W.tenant))
        #expect(world.tenantState.pendingScriptItems.isEmpty)
        try world.run(.requestServiceDeletion(service: service))
        #expect(world.tenantState.pendingScriptItems == [.serviceDeletionRequested(service)])
    }

    @Test func unknownTenantIsNotFound() {
        var world = TestWorld()
        #expect(world.refusal(.renameTenant(tenant: W.tenant, name: "X")) == .notFound(.tenant(W.tenant)))
    }
}
