import CumulusDomain
import Foundation
import Testing

@Suite struct UserDecisionTests {
    typealias W = TestWorld

    @Test func creationValidatesAndMarksPersonalData() throws {
        var world = try TestWorld.withTenant()
        let id = UserID(UUID())
        #expect(
            world.refusal(.createUser(tenant: W.tenant, user: id, upn: "anna", displayName: "Anna", ou: nil))?
                .validationField == "upn")
        #expect(
            world.refusal(.createUser(tenant: W.tenant, user: id, upn: "anna@contoso.com", displayName: "", ou: nil))?
                .validationField == "displayName")
        let decision = try world.run(
            .createUser(tenant: W.tenant, user: id, upn: "anna@contoso.com", displayName: "Anna", ou: nil))
        #expect(decision.events.first?.dataSubject == .user(id))
        #expect(decision.events.first?.personalDataFields == ["upn", "displayName"])
        #expect(world.context.users[id]?.ou == W.root)
        #expect(
            world.refusal(.createUser(tenant: W.tenant, user: id, upn: "anna@contoso.com", displayName: "A", ou: nil))
                == .alreadyExists(.user(id)))
    }

    @Test func userLicencesAreRefusedBeyondTheContingent() throws {
        var world = try TestWorld.withTenant()
        try world.setContingent(.attendantConsole, 1)
        let anna = try world.createUser()
        let ben = try world.createUser()
        try world.run(.assignUserLicence(user: anna, kind: .attendantConsole), by: .tenantAdmin(W.tenant))
        let error = world.refusal(.assignUserLicence(user: ben, kind: .attendantConsole))
        #expect(error == .licenceExhausted(LicenceExhausted(kind: .attendantConsole, used: 1, contingent: 1)))
        #expect(world.refusal(.assignUserLicence(user: anna, kind: .advancedRouting))?.validationField == "kind")
        #expect(
            world.refusal(.assignUserLicence(user: anna, kind: .attendantConsole))
                == .alreadyExists(.userLicence(anna, .attendantConsole)))
        try world.run(.releaseUserLicence(user: anna, kind: .attendantConsole))
        try world.run(.assignUserLicence(user: ben, kind: .attendantConsole))
        #expect(world.pool.used(.attendantConsole) == 1)
    }

    @Test func removingAUserReleasesAllItsLicences() throws {
        var world = try TestWorld.withTenant()
        for kind in [LicenceKind.contactCenterUser, .transcription, .email] { try world.setContingent(kind, 2) }
        let user = try world.createUser()
        for kind in [LicenceKind.contactCenterUser, .transcription, .email] {
            try world.run(.assignUserLicence(user: user, kind: kind))
        }
        let decision = try world.run(.removeUser(user: user), by: .ouAdmin(W.tenant, W.root))
        #expect(decision.changes.map(\.stream).contains(.licences(W.tenant)))
        for kind in [LicenceKind.contactCenterUser, .transcription, .email] { #expect(world.pool.used(kind) == 0) }
        #expect(world.context.users[user]?.lifecycle == .deleted)
        #expect(world.refusal(.removeUser(user: user)) == .notLive(.user(user), .deleted))
    }

    @Test func memberships() throws {
        var world = try TestWorld.withTenant()
        let service = try world.provision()
        let user = try world.createUser()
        try world.run(.assignMembership(user: user, service: service, role: .teamMember), by: .teamOwner(service))
        #expect(world.context.users[user]?.memberships == [service: .teamMember])
        #expect(try world.run(.assignMembership(user: user, service: service, role: .teamMember)).isEmpty)
        #expect(
            world.refusal(.assignMembership(user: user, service: service, role: .teamOwner), by: .teamMember(service))?
                .isPermissionDenied == true)
        try world.run(.removeMembership(user: user, service: service))
        #expect(world.refusal(.removeMembership(user: user, service: service)) == .notFound(.membership(user, service)))
        let ghost = ServiceID(UUID())
        #expect(
            world.refusal(.assignMembership(user: user, service: ghost, role: .teamMember))
                == .notFound(.service(ghost)))
    }

    @Test func userStateByUserTeamOwnerOrAdmin() throws {
        var world = try TestWorld.withTenant()
        let service = try world.provision()
        let user = try world.createUser()
        try world.run(.assignMembership(user: user, service: service, role: .teamMember))
        try world.run(.changeUserState(user: user, state: "Break", responsibilityProfile: "Sales"), by: .user(user))
        #expect(world.context.users[user]?.userState == .custom("Break"))
        #expect(world.context.users[user]?.responsibilityProfile == "Sales")
        try world.run(.changeUserState(user: user, state: "ACW", responsibilityProfile: nil), by: .teamOwner(service))
        #expect(world.context.users[user]?.userState == .afterCallWork)
        try world.run(
            .changeUserState(user: user, state: "RONA", responsibilityProfile: nil), by: .tenantAdmin(W.tenant))
        #expect(world.context.users[user]?.userState == .redirectedOnNoAnswer)
        let other = try world.createUser()
        #expect(
            world.refusal(.changeUserState(user: user, state: "Break", responsibilityProfile: nil), by: .user(other))?
                .isPermissionDenied == true)
        #expect(
            world.refusal(
                .changeUserState(user: user, state: "Break", responsibilityProfile: nil),
                by: .teamOwner(ServiceID(UUID())))?
                .isPermissionDenied == true)
        #expect(
            world.refusal(.changeUserState(user: user, state: "", responsibilityProfile: nil))?.validationField
                == "state")
        #expect(
            world.refusal(
                .changeUserState(user: user, state: "Break", responsibilityProfile: String(repeating: "p", count: 257)))?
                .validationField == "responsibilityProfile")
        // A repeated identical state is stored (projections decide it opens no new row).
        #expect(
            try world.run(.changeUserState(user: user, state: "RONA", responsibilityProfile: nil)).events.count == 1)
    }

    @Test func presenceIsForThePresenceFeedOfTheTenant() throws {
        var world = try TestWorld.withTenant()
        let user = try world.createUser()
        #expect(
            world.refusal(
                .recordPresence(user: user, availability: .busy, activity: .inACall), by: .tenantAdmin(W.tenant))?
                .isPermissionDenied == true)
        #expect(
            world.refusal(
                .recordPresence(user: user, availability: .busy, activity: .inACall), by: .presenceFeed(W.otherTenant))?
                .isPermissionDenied == true)
        let decision = try world.run(
            .recordPresence(user: user, availability: .busy, activity: .inACall), by: .presenceFeed(W.tenant))
        #expect(decision.changes.map(\.stream) == [.user(user)])
        // Without presence tracking only the simplified status is known.
        #expect(world.context.users[user]?.availability == .busy)
        #expect(world.context.users[user]?.activity == .presenceUnknown)
    }

    @Test func presenceActivityIsKeptWithPresenceTracking() throws {
        var world = try TestWorld.withTenant()
        try world.run(.setPresenceTrackingPermission(tenant: W.tenant, granted: true))
        try world.run(
            .changePresenceTrackingSettings(tenant: W.tenant, enabled: true, account1: "p@luware.com", account2: nil))
        let user = try world.createUser()
        try world.run(.recordPresence(user: user, availability: .busy, activity: .inACall), by: .presenceFeed(W.tenant))
        #expect(world.context.users[user]?.activity == .inACall)
    }

    @Test func presenceAndUserStateForUnknownOrRemovedUsersAreRefused() throws {
        var world = try TestWorld.withTenant()
        let ghost = UserID(UUID())
        #expect(
            world.refusal(
                .recordPresence(user: ghost, availability: .available, activity: nil), by: .presenceFeed(W.tenant))
                == .notFound(.user(ghost)))
        #expect(
            world.refusal(.changeUserState(user: ghost, state: "Break", responsibilityProfile: nil))
                == .notFound(.user(ghost)))
        let user = try world.createUser()
        try world.run(.removeUser(user: user))
        #expect(
            world.refusal(
                .recordPresence(user: user, availability: .available, activity: nil), by: .presenceFeed(W.tenant))
                == .notLive(.user(user), .deleted))
        #expect(
            world.refusal(.changeUserState(user: user, state: "Break", responsibilityProfile: nil), by: .user(user))
                == .notLive(.user(user), .deleted))
    }
}
