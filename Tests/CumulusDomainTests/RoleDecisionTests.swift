import CumulusDomain
import Foundation
import Testing

/// `assignRole` / `revokeRole`: OU administrators and user supervisors, held in the domain by `oid`.
@Suite struct RoleDecisionTests {
    typealias W = TestWorld

    @Test func adminsAssignAndRevokeRolesOnce() throws {
        var world = try TestWorld.withTenant()
        try world.run(.changeTenantState(tenant: W.tenant, state: .active))
        let sales = try world.createOU("Sales")
        let principal = UUID()
        let assign = Command.assignRole(tenant: W.tenant, principal: principal, role: .ouAdministrator, ou: sales)
        let decision = try world.run(assign, by: .tenantAdmin(W.tenant))
        #expect(decision.events.map(\.typeName) == ["RoleAssigned"])
        #expect(
            world.tenantState.roleAssignments == [
                RoleAssignment(principal: principal, role: .ouAdministrator, ou: sales)
            ])
        #expect(try world.run(assign, by: .partnerAdmin(W.partner)).isEmpty, "assigning a held role changes nothing")
        let supervisor = Command.assignRole(tenant: W.tenant, principal: principal, role: .userSupervisor, ou: nil)
        try world.run(supervisor, by: .systemAdmin)
        #expect(world.tenantState.roleAssignments.count == 2)
        let revoke = Command.revokeRole(tenant: W.tenant, principal: principal, role: .userSupervisor, ou: nil)
        #expect(try world.run(revoke, by: .tenantAdmin(W.tenant)).events.map(\.typeName) == ["RoleRevoked"])
        #expect(try world.run(revoke, by: .tenantAdmin(W.tenant)).isEmpty, "revoking a role not held changes nothing")
        #expect(world.tenantState.roleAssignments.map(\.role) == [.ouAdministrator])
    }

    @Test func ouAdminsGrantOnlyBelowTheirOUAndNoSupervisors() throws {
        var world = try TestWorld.withTenant()
        try world.run(.changeTenantState(tenant: W.tenant, state: .active))
        let sales = try world.createOU("Sales")
        let emea = try world.createOU("EMEA", under: sales)
        let support = try world.createOU("Support")
        let admin = Actor.ouAdmin(W.tenant, sales)
        try world.run(.assignRole(tenant: W.tenant, principal: UUID(), role: .ouAdministrator, ou: emea), by: admin)
        for (ou, why) in [(sales, "its own OU"), (support, "a sibling OU"), (W.root, "the root")] {
            #expect(
                world.refusal(
                    .assignRole(tenant: W.tenant, principal: UUID(), role: .ouAdministrator, ou: ou), by: admin)?
                    .isPermissionDenied == true, "\(why)")
        }
        #expect(
            world.refusal(.assignRole(tenant: W.tenant, principal: UUID(), role: .userSupervisor, ou: nil), by: admin)?
                .isPermissionDenied == true)
        for actor in [Actor.teamOwner(ServiceID(UUID())), .userSupervisor(W.tenant), .presenceFeed(W.tenant), .guest] {
            #expect(
                world.refusal(
                    .assignRole(tenant: W.tenant, principal: UUID(), role: .userSupervisor, ou: nil), by: actor)?
                    .isPermissionDenied == true, "\(actor)")
        }
        #expect(
            world.refusal(.assignRole(tenant: W.tenant, principal: UUID(), role: .ouAdministrator, ou: nil))?
                .validationField == "ou")
        #expect(
            world.refusal(.assignRole(tenant: W.tenant, principal: UUID(), role: .userSupervisor, ou: sales))?
                .validationField == "ou")
        let ghost = OUID(UUID())
        #expect(
            world.refusal(.assignRole(tenant: W.tenant, principal: UUID(), role: .ouAdministrator, ou: ghost))
                == .notFound(.ou(ghost)))
    }

    @Test func roleEventsRoundTripThroughTheirPayload() throws {
        let event = DomainEvent.roleAssigned(
            RoleAssigned(tenant: W.tenant, principal: UUID(), role: .ouAdministrator, ou: OUID(UUID())))
        let decoded = try DomainEvent.decode(
            type: event.typeName, schemaVersion: event.schemaVersion, payload: event.encodePayload())
        #expect(decoded == event)
    }
}
