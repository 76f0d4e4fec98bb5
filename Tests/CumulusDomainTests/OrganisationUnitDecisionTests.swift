import CumulusDomain
import Foundation
import Testing

@Suite struct OrganisationUnitDecisionTests {
    typealias W = TestWorld

    @Test func createsATree() throws {
        var world = try TestWorld.withTenant()
        let sales = try world.createOU("Sales")
        let emea = try world.createOU("EMEA", under: sales)
        #expect(world.context.ous[emea]?.parent == sales)
        #expect(world.context.ous[sales]?.contents == [.subOU(emea)])
        #expect(world.context.ous[W.root]?.contents == [.subOU(sales)])
        #expect(
            world.refusal(.createOU(tenant: W.tenant, ou: sales, parent: W.root, name: "Again"))
                == .alreadyExists(.ou(sales)))
        let ghost = OUID(UUID())
        #expect(
            world.refusal(.createOU(tenant: W.tenant, ou: OUID(UUID()), parent: ghost, name: "X"))
                == .notFound(.ou(ghost)))
        #expect(
            world.refusal(.createOU(tenant: W.tenant, ou: OUID(UUID()), parent: W.root, name: ""))?.validationField
                == "name")
    }

    @Test func ouAdminWorksOnlyBelowItsOwnOU() throws {
        var world = try TestWorld.withTenant()
        let sales = try world.createOU("Sales")
        let support = try world.createOU("Support")
        let admin = Actor.ouAdmin(W.tenant, sales)
        let emea = try world.createOU("EMEA", under: sales, by: admin)
        #expect(
            world.refusal(.createOU(tenant: W.tenant, ou: OUID(UUID()), parent: support, name: "X"), by: admin)?
                .isPermissionDenied == true)
        #expect(
            world.refusal(.createOU(tenant: W.tenant, ou: OUID(UUID()), parent: W.root, name: "X"), by: admin)?
                .isPermissionDenied == true)
        #expect(world.refusal(.deleteOU(ou: sales), by: admin)?.isPermissionDenied == true)
        #expect(world.refusal(.renameOU(ou: sales, name: "Mine"), by: admin)?.isPermissionDenied == true)
        #expect(world.refusal(.moveOU(ou: emea, newParent: support), by: admin)?.isPermissionDenied == true)
        try world.run(.renameOU(ou: emea, name: "Europe"), by: admin)
        #expect(world.context.ous[emea]?.name == "Europe")
        try world.run(.deleteOU(ou: emea), by: admin)
        #expect(world.context.ous[emea]?.lifecycle == .deleted)
        #expect(world.refusal(.renameOU(ou: emea, name: "Back")) == .notLive(.ou(emea), .deleted))
    }

    @Test func deletingANonEmptyOUIsRefused() throws {
        var world = try TestWorld.withTenant()
        let sales = try world.createOU("Sales")
        let child = try world.createOU("Child", under: sales)
        #expect(world.refusal(.deleteOU(ou: sales)) == .ouNotEmpty(sales, subOUs: 1, services: 0, users: 0))
        try world.run(.deleteOU(ou: child))
        let user = try world.createUser(in: sales)
        #expect(world.refusal(.deleteOU(ou: sales)) == .ouNotEmpty(sales, subOUs: 0, services: 0, users: 1))
        try world.run(.removeUser(user: user))
        let service = try world.provision(in: sales)
        let error = world.refusal(.deleteOU(ou: sales))
        #expect(error == .ouNotEmpty(sales, subOUs: 0, services: 1, users: 0))
        #expect(error?.description.contains("not empty") == true)
        try world.run(.moveService(service: service, ou: W.root))
        #expect(world.refusal(.deleteOU(ou: sales)) == nil)
    }

    @Test func rootCannotBeDeletedOrMoved() throws {
        var world = try TestWorld.withTenant()
        let sales = try world.createOU("Sales")
        #expect(
            world.refusal(.deleteOU(ou: W.root)) == .invalidTreeChange(W.root, reason: "the root cannot be deleted"))
        #expect(
            world.refusal(.moveOU(ou: W.root, newParent: sales))
                == .invalidTreeChange(W.root, reason: "the root cannot be moved"))
    }

    @Test func movingUnderItsOwnSubtreeIsRefused() throws {
        var world = try TestWorld.withTenant()
        let a = try world.createOU("A")
        let b = try world.createOU("B", under: a)
        #expect(world.refusal(.moveOU(ou: a, newParent: b)) != nil)
        #expect(world.refusal(.moveOU(ou: a, newParent: a)) != nil)
        let c = try world.createOU("C")
        try world.run(.moveOU(ou: b, newParent: c))
        #expect(world.context.ous[b]?.parent == c)
        #expect(world.context.ous[a]?.contents.isEmpty == true)
        #expect(world.context.ous[c]?.contents == [.subOU(b)])
    }

    @Test func defaultOUMovesUpToTheParentWhenDeleted() throws {
        var world = try TestWorld.withTenant()
        let sales = try world.createOU("Sales")
        let emea = try world.createOU("EMEA", under: sales)
        try world.run(.setDefaultOU(tenant: W.tenant, ou: emea), by: .tenantAdmin(W.tenant))
        #expect(world.tenantState.defaultOU == emea)
        let decision = try world.run(.deleteOU(ou: emea))
        #expect(decision.changes.map(\.stream).contains(.tenant(W.tenant)))
        #expect(world.tenantState.defaultOU == sales)
        try world.run(.deleteOU(ou: sales))
        #expect(world.tenantState.defaultOU == W.root)
        // New users land in the default OU.
        let user = try world.createUser()
        #expect(world.context.users[user]?.ou == W.root)
    }

    @Test func defaultOUMustBeALiveOUOfTheTenant() throws {
        var world = try TestWorld.withTenant()
        let ghost = OUID(UUID())
        #expect(world.refusal(.setDefaultOU(tenant: W.tenant, ou: ghost)) == .notFound(.ou(ghost)))
    }
}
