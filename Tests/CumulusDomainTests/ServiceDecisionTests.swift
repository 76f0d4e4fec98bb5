import CumulusDomain
import Foundation
import Testing

@Suite struct ServiceDecisionTests {
    typealias W = TestWorld

    @Test func provisioningDefaultsAndStreams() throws {
        var world = try TestWorld.withTenant()
        let sales = try world.createOU("Sales")
        try world.run(.setDefaultOU(tenant: W.tenant, ou: sales))
        let id = ServiceID(UUID())
        let decision = try world.run(
            .provisionService(
                tenant: W.tenant, service: id, name: "Hotline", type: .advancedRouting, ou: nil, source: .backend,
                owner: nil),
            by: .tenantAdmin(W.tenant))
        #expect(decision.newStreams == [.service(id)])
        #expect(
            Set(decision.changes.map(\.stream)) == [.service(id), .ou(sales), .licences(W.tenant), .tenant(W.tenant)])
        let service = try #require(world.context.services[id])
        #expect(service.ou == sales)
        #expect(service.type == .advancedRouting)
        #expect(service.distribution == DistributionSettings())
        #expect(!service.distribution.deliverWhileBusy && !service.distribution.deliverWhileAway)
        #expect(service.lifecycle == .live)
        #expect(world.pool.used(.advancedRouting) == 1)
    }

    @Test func trialContingentAllowsExactlyOneAdvancedRoutingService() throws {
        var world = try TestWorld.withTenant()
        try world.provision()
        let error = world.refusal(
            .provisionService(
                tenant: W.tenant, service: ServiceID(UUID()), name: "Two", type: .advancedRouting, ou: nil,
                source: .backend, owner: nil))
        #expect(error == .licenceExhausted(LicenceExhausted(kind: .advancedRouting, used: 1, contingent: 1)))
        #expect(error?.description.contains("advancedRouting used 1 of contingent 1") == true)
        #expect(
            world.refusal(
                .provisionService(
                    tenant: W.tenant, service: ServiceID(UUID()), name: "CC", type: .contactCenter, ou: nil,
                    source: .backend, owner: nil))
                == .licenceExhausted(LicenceExhausted(kind: .contactCenter, used: 0, contingent: 0)))
    }

    @Test func changingTypeMovesTheLicence() throws {
        var world = try TestWorld.withTenant()
        let service = try world.provision()
        #expect(
            world.refusal(.changeServiceType(service: service, type: .contactCenter))
                == .licenceExhausted(LicenceExhausted(kind: .contactCenter, used: 0, contingent: 1 - 1)))
        try world.setContingent(.contactCenter, 1)
        try world.run(.changeServiceType(service: service, type: .contactCenter), by: .teamOwner(service))
        #expect(world.pool.used(.advancedRouting) == 0)
        #expect(world.pool.used(.contactCenter) == 1)
        #expect(world.context.services[service]?.type == .contactCenter)
        #expect(try world.run(.changeServiceType(service: service, type: .contactCenter)).isEmpty)
    }

    @Test func loweringAContingentBelowUsageIsAllowedAndShowsOverage() throws {
        var world = try TestWorld.withTenant()
        try world.provision()
        try world.setContingent(.advancedRouting, 0)
        #expect(world.pool.available(.advancedRouting) == -1)
    }

    @Test func teamsProvisioningFollowsTheSettingAndMakesTheUserOwner() throws {
        var world = try TestWorld.withTenant()
        try world.setContingent(.advancedRouting, 10)
        let user = try world.createUser()
        let service = try world.provision(source: .teams, by: .user(user))
        #expect(world.context.users[user]?.memberships[service] == .teamOwner)
        try world.run(
            .changeProvisioningSettings(
                tenant: W.tenant,
                settings: ProvisioningSettings(
                    serviceProvisioningViaTeams: .tenantAndOUAdmins, defaultTeamOwnerRole: .teamOwnerLimited)))
        #expect(throws: DomainError.self) { try world.provision(source: .teams, by: .user(user)) }
        let limited = try world.provision(source: .teams, owner: user, by: .tenantAdmin(W.tenant))
        #expect(world.context.users[user]?.memberships[limited] == .teamOwnerLimited)
        // The earlier service keeps its role: the setting applies only to services provisioned later.
        #expect(world.context.users[user]?.memberships[service] == .teamOwner)
        try world.run(
            .changeProvisioningSettings(
                tenant: W.tenant, settings: ProvisioningSettings(serviceProvisioningViaTeams: .noOne)))
        let refused = world.refusal(
            .provisionService(
                tenant: W.tenant, service: ServiceID(UUID()), name: "S", type: .advancedRouting, ou: nil,
                source: .teams, owner: nil))
        #expect(refused?.isPermissionDenied == true)
        #expect(refused?.description.contains("noOne") == true)
        // The backend ignores the Teams setting.
        try world.provision(source: .backend, by: .ouAdmin(W.tenant, W.root))
    }

    @Test func aUserOfAnotherTenantCannotProvisionFromTeams() throws {
        var world = try TestWorld.withTenant()
        let stranger = UserID(UUID())
        #expect(throws: DomainError.self) { try world.provision(source: .teams, by: .user(stranger)) }
    }

    @Test func teamOwnerLimitedMayOnlyChangeDistribution() throws {
        var world = try TestWorld.withTenant()
        let service = try world.provision()
        let limited = Actor.teamOwnerLimited(service)
        #expect(world.refusal(.renameService(service: service, name: "New"), by: limited)?.isPermissionDenied == true)
        #expect(
            world.refusal(.assignServiceLicence(service: service, kind: .interact), by: limited)?.isPermissionDenied
                == true)
        let settings = DistributionSettings(
            deliverWhileBusy: true, deliverWhileInMeeting: true, deliverWhileAway: false)
        try world.run(.changeDistributionSettings(service: service, settings: settings), by: limited)
        #expect(world.context.services[service]?.distribution == settings)
        #expect(
            world.refusal(.renameService(service: service, name: "New"), by: .teamMember(service))?.isPermissionDenied
                == true)
        try world.run(.renameService(service: service, name: "New"), by: .teamOwner(service))
        #expect(world.context.services[service]?.name == "New")
        #expect(
            world.refusal(.renameService(service: service, name: "X"), by: .teamOwner(ServiceID(UUID())))?
                .isPermissionDenied == true)
    }

    @Test func serviceFeatureLicences() throws {
        var world = try TestWorld.withTenant()
        let service = try world.provision()
        #expect(
            world.refusal(.assignServiceLicence(service: service, kind: .interact))
                == .licenceExhausted(LicenceExhausted(kind: .interact, used: 0, contingent: 0)))
        try world.setContingent(.interact, 1)
        #expect(world.refusal(.assignServiceLicence(service: service, kind: .contactCenter))?.validationField == "kind")
        try world.run(.assignServiceLicence(service: service, kind: .interact), by: .ouAdmin(W.tenant, W.root))
        #expect(
            world.refusal(.assignServiceLicence(service: service, kind: .interact))
                == .alreadyExists(.serviceLicence(service, .interact)))
        try world.run(.releaseServiceLicence(service: service, kind: .interact))
        #expect(world.pool.used(.interact) == 0)
        #expect(
            world.refusal(.releaseServiceLicence(service: service, kind: .interact))
                == .notFound(.serviceLicence(service, .interact)))
    }

    @Test func serviceDeletionStopsCommandsAndReleasesOnCompletion() throws {
        var world = try TestWorld.withTenant()
        let service = try world.provision()
        try world.run(.requestServiceDeletion(service: service), by: .tenantAdmin(W.tenant))
        #expect(world.context.services[service]?.lifecycle == .pendingDeletion)
        #expect(world.pool.used(.advancedRouting) == 1)
        #expect(
            world.refusal(.renameService(service: service, name: "X")) == .notLive(.service(service), .pendingDeletion))
        try world.run(
            .recordProvisioningScriptRun(tenant: W.tenant, succeeded: true), by: .provisioningScript(W.tenant))
        #expect(world.context.services[service]?.lifecycle == .deleted)
        #expect(world.pool.used(.advancedRouting) == 0)
        #expect(world.context.ous[W.root]?.contents.isEmpty == true)
        try world.provision()  // the licence is free again
    }

    @Test func ouAdminOfTheServicesOU() throws {
        var world = try TestWorld.withTenant()
        let sales = try world.createOU("Sales")
        let support = try world.createOU("Support")
        let service = try world.provision(in: sales)
        #expect(
            world.refusal(.renameService(service: service, name: "X"), by: .ouAdmin(W.tenant, support))?
                .isPermissionDenied == true)
        try world.run(.renameService(service: service, name: "X"), by: .ouAdmin(W.tenant, sales))
        #expect(
            world.refusal(.moveService(service: service, ou: support), by: .ouAdmin(W.tenant, sales))?
                .isPermissionDenied == true)
    }
}
