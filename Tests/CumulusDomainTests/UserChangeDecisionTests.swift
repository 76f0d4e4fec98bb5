import CumulusDomain
import Foundation
import Testing

/// Rename, UPN change, move and profile change of a user (domain.md §5).
@Suite struct UserChangeDecisionTests {
    typealias W = TestWorld

    @Test func renameValidatesTheNameAndIsAudited() throws {
        var world = try TestWorld.withTenant()
        let user = try world.createUser()
        let before = world.log.count
        #expect(world.refusal(.renameUser(user: user, displayName: ""))?.validationField == "displayName")
        let tooLong = String(repeating: "x", count: 257)
        let refusal = world.refusal(.renameUser(user: user, displayName: tooLong))
        #expect(refusal?.validationField == "displayName")
        #expect(refusal.map { !$0.description.contains(tooLong) } == true)
        #expect(world.log.count == before, "a refused rename appended something")
        let decision = try world.run(.renameUser(user: user, displayName: "Anna Muster-Meier"))
        #expect(
            decision.events == [.userRenamed(UserRenamed(user: user, displayName: PersonalData("Anna Muster-Meier")))])
        #expect(decision.events.first?.personalDataFields == ["displayName"])
        #expect(world.context.users[user]?.displayName.value == "Anna Muster-Meier")
        #expect(try world.run(.renameUser(user: user, displayName: "Anna Muster-Meier")).isEmpty)
        #expect(
            world.refusal(.renameUser(user: user, displayName: "X"), by: .user(user))
                == .permissionDenied(
                    PermissionDenied(
                        actor: .user(user), action: .changeUser, rule: PermissionTable.rule(for: .changeUser).rule)))
    }

    @Test func userPrincipalNamesAreUniqueAmongLiveUsersCaseInsensitively() throws {
        var world = try TestWorld.withTenant()
        let anna = UserID(UUID())
        try world.run(
            .createUser(tenant: W.tenant, user: anna, upn: "Anna@Contoso.com", displayName: "Anna", ou: nil))
        // Taken at creation, whatever the case.
        let ben = UserID(UUID())
        let taken = world.refusal(
            .createUser(tenant: W.tenant, user: ben, upn: "anna@contoso.COM", displayName: "Ben", ou: nil))
        #expect(taken?.validationField == "upn")
        #expect(taken?.description.contains("unique among the tenant's live users") == true)
        #expect(world.context.users[ben] == nil)
        try world.run(.createUser(tenant: W.tenant, user: ben, upn: "ben@contoso.com", displayName: "Ben", ou: nil))
        // Taken at a change; not local@domain; own UPN in another case is fine.
        let before = world.log.count
        #expect(world.refusal(.changeUserPrincipalName(user: ben, upn: "ANNA@contoso.com"))?.validationField == "upn")
        #expect(world.refusal(.changeUserPrincipalName(user: ben, upn: "ben.contoso.com"))?.validationField == "upn")
        #expect(world.log.count == before)
        let change = try world.run(.changeUserPrincipalName(user: anna, upn: "anna@contoso.com"))
        #expect(change.changes.map(\.stream) == [.user(anna), .userPrincipalNames(W.tenant)])
        // Removal frees the UPN.
        let removal = try world.run(.removeUser(user: anna))
        #expect(removal.changes.map(\.stream).contains(.userPrincipalNames(W.tenant)))
        try world.run(.changeUserPrincipalName(user: ben, upn: "Anna@contoso.com"))
        #expect(world.context.users[ben]?.upn.value == "Anna@contoso.com")
        // Creation reserves on the tenant-wide stream: that is what makes racing creations conflict.
        let carl = UserID(UUID())
        let creation = try world.run(
            .createUser(tenant: W.tenant, user: carl, upn: "carl@contoso.com", displayName: "Carl", ou: nil))
        #expect(creation.changes.map(\.stream).contains(.userPrincipalNames(W.tenant)))
    }

    @Test func moveGoesToALiveOUOfTheSameTenantForWhoeverMayCreateUsersInBoth() throws {
        var world = try TestWorld.withTenant()
        let sales = try world.createOU("Sales")
        let support = try world.createOU("Support")
        let gone = try world.createOU("Gone")
        try world.run(.deleteOU(ou: gone))
        let user = try world.createUser(in: sales)
        // An OU of another tenant (a context normally holds one tenant; this one is given it to be sure).
        var other = TestWorld()
        let otherRoot = OUID(UUID())
        try other.run(
            TestWorld.createTenant(
                W.otherTenant, name: "Fabrikam", domain: "fabrikam.onmicrosoft.com", azureID: UUID().uuidString,
                root: otherRoot))
        let foreign = OUID(UUID())
        try other.run(.createOU(tenant: W.otherTenant, ou: foreign, parent: otherRoot, name: "Foreign"))
        world.context.ous[foreign] = other.context.ous[foreign]
        let before = world.log.count
        let wrongTenant = world.refusal(.moveUser(user: user, ou: foreign), by: .tenantAdmin(W.tenant))
        #expect(
            wrongTenant
                == .validation(ValidationFailure(field: "ou", rule: "an organisation unit of the user's tenant")))
        #expect(world.refusal(.moveUser(user: user, ou: OUID(UUID())))?.validationField == "ou")
        let deleted = world.refusal(.moveUser(user: user, ou: gone))
        #expect(deleted == .validation(ValidationFailure(field: "ou", rule: "a live organisation unit (not deleted)")))
        // An ouAdmin of the old OU only may not move the user out of it; of both (the root) may.
        #expect(
            world.refusal(.moveUser(user: user, ou: support), by: .ouAdmin(W.tenant, sales))?.isPermissionDenial == true
        )
        #expect(world.refusal(.moveUser(user: user, ou: sales), by: .ouAdmin(W.tenant, support)) != nil)
        #expect(world.log.count == before)
        let decision = try world.run(.moveUser(user: user, ou: support), by: .ouAdmin(W.tenant, W.root))
        #expect(
            decision.events == [
                .userMoved(UserMoved(user: user, from: sales, to: support)),
                .ouContentRemoved(OUContentRemoved(ou: sales, content: .user(user))),
                .ouContentAdded(OUContentAdded(ou: support, content: .user(user))),
            ])
        #expect(world.context.users[user]?.ou == support)
        #expect(world.context.ous[sales]?.userCount == 0)
        // Sales is empty again and can be deleted.
        try world.run(.deleteOU(ou: sales))
    }

    @Test func profileChangesAloneKeepTheUserState() throws {
        var world = try TestWorld.withTenant()
        let user = try world.createUser()
        try world.run(.changeUserState(user: user, state: "Break", responsibilityProfile: "Sales"), by: .user(user))
        let decision = try world.run(
            .changeResponsibilityProfile(user: user, responsibilityProfile: "Support"), by: .user(user))
        #expect(
            decision.events == [
                .responsibilityProfileChanged(
                    ResponsibilityProfileChanged(user: user, responsibilityProfile: "Support"))
            ])
        #expect(world.context.users[user]?.userState == .custom("Break"))
        #expect(world.context.users[user]?.responsibilityProfile == "Support")
        #expect(
            world.refusal(.changeResponsibilityProfile(user: user, responsibilityProfile: ""))?.validationField
                == "responsibilityProfile")
        #expect(
            world.refusal(
                .changeResponsibilityProfile(user: user, responsibilityProfile: "X"), by: .user(UserID(UUID())))?
                .isPermissionDenial == true)
        try world.run(.removeUser(user: user))
        let before = world.log.count
        #expect(
            world.refusal(.changeResponsibilityProfile(user: user, responsibilityProfile: "Sales"))
                == .notLive(.user(user), .deleted))
        #expect(world.log.count == before)
    }

    @Test func everyOUMoveAlsoAppendsToTheTenantsTreeStream() throws {
        var world = try TestWorld.withTenant()
        let a = try world.createOU("A")
        let b = try world.createOU("B")
        let decision = try world.run(.moveOU(ou: a, newParent: b))
        #expect(decision.changes.map(\.stream).contains(.ouTree(W.tenant)))
    }
}

extension DomainError {
    var isPermissionDenial: Bool { if case .permissionDenied = self { true } else { false } }
}
