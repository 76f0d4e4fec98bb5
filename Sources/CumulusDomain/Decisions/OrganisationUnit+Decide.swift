extension OrganisationUnit {
    /// Decides a command on an organisation unit: create, rename, move, delete (§4).
    ///
    /// The parent's stream records what each OU holds (``OUContentAdded``/``OUContentRemoved``), so
    /// "refused while not empty" is decided on the OU's own stream and cannot race with a placement.
    ///
    /// Commands of other aggregates give an empty decision; ``CommandRequest/decide(in:)`` routes each
    /// command to its aggregate.
    /// - Throws: ``DomainError``.
    public static func decide(
        _ command: Command, by actor: Actor, in context: DecisionContext
    ) throws(DomainError)
        -> Decision
    {
        switch command {
        case .createOU(let tenantID, let id, let parentID, let name):
            let tenant = try DecisionGuards.tenant(tenantID, in: context)
            var scope = DecisionGuards.scope(of: tenant)
            scope.containingOUs = context.ouAndAncestors(parentID)
            try PermissionTable.check(actor, .createOU, in: scope)
            try DecisionGuards.usable(tenant, by: actor)
            _ = try context.liveOU(parentID, of: tenantID)
            if context.ous[id] != nil { throw .alreadyExists(.ou(id)) }
            let name = try FieldRules.text(name, field: "name")
            return Decision(
                [
                    .ouCreated(OUCreated(ou: id, tenant: tenantID, parent: parentID, name: name)),
                    .ouContentAdded(OUContentAdded(ou: parentID, content: .subOU(id))),
                ],
                newStreams: [.ou(id)])
        case .renameOU(let id, let name):
            let (ou, _) = try target(id, command.action, by: actor, in: context)
            let name = try FieldRules.text(name, field: "name")
            return Decision([.ouRenamed(OURenamed(ou: ou.id, name: name))], newStreams: [])
                .unlessUnchanged(ou.name == name)
        case .moveOU(let id, let newParentID):
            let (ou, tenant) = try target(id, command.action, by: actor, in: context)
            guard let oldParent = ou.parent else { throw .invalidTreeChange(id, reason: "the root cannot be moved") }
            var newScope = DecisionGuards.scope(of: tenant)
            newScope.containingOUs = context.ouAndAncestors(newParentID)
            try PermissionTable.check(actor, .moveOU, in: newScope)
            _ = try context.liveOU(newParentID, of: tenant.id)
            if context.ouAndAncestors(newParentID).contains(id) {
                throw .invalidTreeChange(id, reason: "cannot move under itself or one of its own sub-OUs")
            }
            if oldParent == newParentID { return Decision([]) }
            return Decision([
                .ouMoved(OUMoved(ou: id, from: oldParent, to: newParentID)),
                .ouContentRemoved(OUContentRemoved(ou: oldParent, content: .subOU(id))),
                .ouContentAdded(OUContentAdded(ou: newParentID, content: .subOU(id))),
                // Two moves of unrelated OUs touch disjoint OU streams yet can close a cycle together: every move
                // also appends here, expecting the version it decided on, so racing moves have one winner.
                .ouTreeChanged(OUTreeChanged(tenant: tenant.id, ou: id, to: newParentID)),
            ])
        case .deleteOU(let id):
            let (ou, tenant) = try target(id, command.action, by: actor, in: context)
            guard let parent = ou.parent else { throw .invalidTreeChange(id, reason: "the root cannot be deleted") }
            guard ou.contents.isEmpty else {
                throw .ouNotEmpty(id, subOUs: ou.subOUCount, services: ou.serviceCount, users: ou.userCount)
            }
            var events: [DomainEvent] = [
                .ouDeleted(OUDeleted(ou: id)), .ouContentRemoved(OUContentRemoved(ou: parent, content: .subOU(id))),
            ]
            // The default moves one level up; the parent is live because it still contained this OU.
            if tenant.defaultOU == id {
                events.append(.defaultOUChanged(DefaultOUChanged(tenant: tenant.id, ou: parent)))
            }
            return Decision(events)
        default:
            return Decision([])
        }
    }

    /// Loads an existing OU and its tenant, and checks permission (scope: the OUs above it) and liveness.
    private static func target(
        _ id: OUID, _ action: Action, by actor: Actor, in context: DecisionContext
    )
        throws(DomainError) -> (OrganisationUnit, Tenant)
    {
        guard let ou = context.ous[id] else { throw .notFound(.ou(id)) }
        let tenant = try DecisionGuards.tenant(ou.tenant, in: context)
        var scope = DecisionGuards.scope(of: tenant)
        scope.containingOUs = context.ancestors(id)
        try PermissionTable.check(actor, action, in: scope)
        try DecisionGuards.usable(tenant, by: actor)
        guard ou.lifecycle == .live else { throw .notLive(.ou(id), ou.lifecycle) }
        return (ou, tenant)
    }
}

extension Decision {
    /// An empty decision when `unchanged`, otherwise this one.
    func unlessUnchanged(_ unchanged: Bool) -> Decision { unchanged ? Decision([]) : self }
}
