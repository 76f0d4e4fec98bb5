import Foundation

extension Tenant {
    /// Decides `assignRole` / `revokeRole`.
    ///
    /// Who may (docs/domain.md, "Sign-in"): the admins (systemAdmin, partnerAdmin in scope, tenantAdmin) grant
    /// both roles; an ouAdmin may make OU administrators of OUs strictly below its own OU (as the matrix lets
    /// it administer only what lies below it) and may not make user supervisors. An OU administrator role
    /// names a live OU of the tenant (revoking: any OU of the tenant); a user supervisor role names none.
    /// Assigning a held role or revoking one not held changes nothing.
    /// - Throws: ``DomainError``.
    static func decideRole(
        _ tenant: Tenant, principal: UUID, role: AssignableRole, ou: OUID?, assign: Bool, by actor: Actor,
        in context: DecisionContext
    ) throws(DomainError) -> Decision {
        var scope = DecisionGuards.scope(of: tenant)
        switch role {
        case .ouAdministrator:
            guard let ou else {
                throw .validation(ValidationFailure(field: "ou", rule: "given for the role ouAdministrator"))
            }
            if assign {
                _ = try context.liveOU(ou, of: tenant.id)
            } else if context.ous[ou]?.tenant != tenant.id {
                throw .notFound(.ou(ou))
            }
            scope.containingOUs = context.ancestors(ou)
        case .userSupervisor:
            guard ou == nil else {
                throw .validation(ValidationFailure(field: "ou", rule: "absent for the role userSupervisor"))
            }
        }
        try PermissionTable.check(actor, .manageRoles, in: scope)
        try DecisionGuards.usable(tenant, by: actor)
        let assignment = RoleAssignment(principal: principal, role: role, ou: ou)
        let held = tenant.roleAssignments.contains(assignment)
        if assign {
            if held { return Decision([]) }
            return Decision([.roleAssigned(RoleAssigned(tenant: tenant.id, principal: principal, role: role, ou: ou))])
        }
        if !held { return Decision([]) }
        return Decision([.roleRevoked(RoleRevoked(tenant: tenant.id, principal: principal, role: role, ou: ou))])
    }
}
