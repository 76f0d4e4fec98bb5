import CumulusDomain
import CumulusLog
import Testing

@testable import CumulusProjections

@Suite struct CurrentStateTests {
    /// A tenant with a service, two members and a non-member, with presence that exercises every routing rule.
    static func world(distribution: DistributionSettings) -> LogBuilder {
        var log = LogBuilder()
        log.append(World.creation(), at: minute(0))
        log.append(
            .serviceProvisioned(
                ServiceProvisioned(
                    service: World.hotline, tenant: World.tenant, ou: World.sales, name: "Hotline",
                    type: .advancedRouting, source: .backend, provisionedBy: nil)), at: minute(1))
        log.append(
            .serviceLicenceAssigned(
                ServiceLicenceAssigned(tenant: World.tenant, service: World.hotline, kind: .advancedRouting)),
            at: minute(1))
        log.append(
            .distributionSettingsChanged(DistributionSettingsChanged(service: World.hotline, settings: distribution)),
            at: minute(2))
        log.append(World.user(World.anna, "Anna Muster", upn: "anna@contoso.com"), at: minute(3))
        log.append(World.user(World.ben, "Ben Brun", upn: "ben@contoso.com"), at: minute(3))
        log.append(World.user(World.carla, "Carla Cruz", upn: "carla@contoso.com"), at: minute(3))
        for user in [World.anna, World.ben] {
            log.append(
                .membershipAssigned(MembershipAssigned(user: user, service: World.hotline, role: .teamMember)),
                at: minute(4))
        }
        return log
    }

    @Test func foldsTenantSettingsOUsServicesUsersAndLicences() throws {
        var log = Self.world(distribution: DistributionSettings())
        log.append(World.privacy(reporting: true), at: minute(5), by: "tenantAdmin:\(World.tenant)")
        log.append(.tenantStateChanged(TenantStateChanged(tenant: World.tenant, state: .active)), at: minute(6))
        log.append(
            .provisioningScriptPushRequired(
                ProvisioningScriptPushRequired(tenant: World.tenant, item: .serviceProvisioned(World.hotline))),
            at: minute(6))
        log.append(
            .userLicenceAssigned(UserLicenceAssigned(tenant: World.tenant, user: World.anna, kind: .contactCenterUser)),
            at: minute(7))
        let state = try #require(try log.rebuild().projection(CurrentStateProjection.self))
        let tenant = try #require(state.tenants[World.tenant])
        #expect(tenant.name == "Contoso")
        #expect(tenant.state == .active)
        #expect(tenant.dataPrivacy.persistUserStatesInReporting)
        #expect(tenant.pendingScriptItems == [.serviceProvisioned(World.hotline)])
        #expect(state.organisationUnits(in: World.tenant).map(\.name) == ["Root", "Sales"])
        #expect(state.services[World.hotline]?.name == "Hotline")
        #expect(state.licences(of: World.hotline) == [.advancedRouting])
        #expect(state.licences(of: World.anna) == [.contactCenterUser])
        #expect(state.users(in: World.tenant).map(\.displayName.value) == ["Anna Muster", "Ben Brun", "Carla Cruz"])
        #expect(state.members(of: World.hotline) == [World.anna, World.ben].sorted())
    }

    @Test func routesByPresenceAndDistributionSettings() throws {
        let cases: [(Availability, Activity, DistributionSettings, Bool)] = [
            (.available, .available, DistributionSettings(), true),
            (.busy, .busy, DistributionSettings(), false),
            (.busy, .busy, DistributionSettings(deliverWhileBusy: true), true),
            (.busy, .inAMeeting, DistributionSettings(deliverWhileBusy: true), false),
            (.busy, .inAMeeting, DistributionSettings(deliverWhileInMeeting: true), true),
            (.busy, .inACall, DistributionSettings(deliverWhileBusy: true, deliverWhileInMeeting: true), false),
            (.doNotDisturb, .doNotDisturb, DistributionSettings(deliverWhileBusy: true, deliverWhileAway: true), false),
            (.offline, .offline, DistributionSettings(deliverWhileAway: true), false),
            (.away, .away, DistributionSettings(), false),
            (.beRightBack, .beRightBack, DistributionSettings(deliverWhileAway: true), true),
        ]
        for (availability, activity, distribution, expected) in cases {
            var log = Self.world(distribution: distribution)
            log.append(World.presence(World.anna, availability, activity), at: minute(10), by: "presenceFeed")
            log.append(World.presence(World.ben, .offline, .offline), at: minute(10), by: "presenceFeed")
            log.append(World.presence(World.carla, .available, .available), at: minute(10), by: "presenceFeed")
            let state = try #require(try log.rebuild().projection(CurrentStateProjection.self))
            #expect(
                state.routableMembers(of: World.hotline) == (expected ? [World.anna] : []),
                "\(availability)/\(activity) with \(distribution)")
        }
    }

    @Test func aLateOlderPresenceDoesNotReplaceTheCurrentOne() throws {
        var log = Self.world(distribution: DistributionSettings())
        log.append(World.presence(World.anna, .available, .available), at: minute(20))
        log.append(World.presence(World.anna, .busy, .inACall), at: minute(10))
        let state = try #require(try log.rebuild().projection(CurrentStateProjection.self))
        #expect(state.users[World.anna]?.availability == .available)
        #expect(state.routableCount(of: World.hotline) == 1)
    }

    @Test func licenceCountersShowOverageAsNegativeAvailable() throws {
        var log = Self.world(distribution: DistributionSettings())
        log.append(
            .licenceContingentSet(LicenceContingentSet(tenant: World.tenant, kind: .contactCenterUser, contingent: 2)),
            at: minute(5))
        for user in [World.anna, World.ben] {
            log.append(
                .userLicenceAssigned(UserLicenceAssigned(tenant: World.tenant, user: user, kind: .contactCenterUser)),
                at: minute(6))
        }
        log.append(
            .licenceContingentSet(LicenceContingentSet(tenant: World.tenant, kind: .contactCenterUser, contingent: 1)),
            at: minute(7))
        log.append(
            .licenceContingentSet(LicenceContingentSet(tenant: World.tenant, kind: .advancedRouting, contingent: 0)),
            at: minute(7))
        let counters = try #require(try log.rebuild().projection(LicenceCountersProjection.self))
        let user = counters.counter(for: World.tenant, kind: .contactCenterUser)
        #expect((user.contingent, user.used, user.available) == (1, 2, -1))
        let routing = counters.counter(for: World.tenant, kind: .advancedRouting)
        #expect((routing.contingent, routing.used, routing.available) == (0, 1, -1))
        #expect(counters.counters(for: World.tenant).count == LicenceKind.allCases.count)
        #expect(counters.counter(for: World.tenant, kind: .email).available == 0)
    }
}
