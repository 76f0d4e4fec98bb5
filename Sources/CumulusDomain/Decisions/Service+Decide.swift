extension Service {
    /// Decides a command on a service: provisioning, settings, type, licences, deletion (§4, §6).
    ///
    /// Commands of other aggregates give an empty decision; ``CommandRequest/decide(in:)`` routes each
    /// command to its aggregate.
    /// - Throws: ``DomainError``.
    public static func decide(
        _ command: Command, by actor: Actor, in context: DecisionContext
    ) throws(DomainError)
        -> Decision
    {
        if case .provisionService(let tenantID, let id, let name, let type, let ouID, let source, let owner) = command {
            return try provision(
                tenantID: tenantID, id: id, name: name, type: type, ouID: ouID, source: source, owner: owner,
                by: actor, in: context)
        }
        guard let id = command.serviceID else { return Decision([]) }
        guard let service = context.services[id] else { throw .notFound(.service(id)) }
        let tenant = try DecisionGuards.tenant(service.tenant, in: context)
        var scope = DecisionGuards.scope(of: tenant)
        scope.containingOUs = context.ouAndAncestors(service.ou)
        scope.service = id
        try PermissionTable.check(actor, command.action, in: scope)
        try DecisionGuards.usable(tenant, by: actor)
        guard service.lifecycle == .live else { throw .notLive(.service(id), service.lifecycle) }
        let pool = context.pool(for: tenant.id)

        switch command {
        case .renameService(_, let name):
            let name = try FieldRules.text(name, field: "name")
            return Decision([.serviceRenamed(ServiceRenamed(service: id, name: name))])
                .unlessUnchanged(name == service.name)
        case .moveService(_, let ouID):
            _ = try context.liveOU(ouID, of: tenant.id)
            scope.containingOUs = context.ouAndAncestors(ouID)
            try PermissionTable.check(actor, .changeServiceSettings, in: scope)
            if ouID == service.ou { return Decision([]) }
            return Decision([
                .serviceMoved(ServiceMoved(service: id, from: service.ou, to: ouID)),
                .ouContentRemoved(OUContentRemoved(ou: service.ou, content: .service(id))),
                .ouContentAdded(OUContentAdded(ou: ouID, content: .service(id))),
            ])
        case .changeServiceType(_, let type):
            if type == service.type { return Decision([]) }
            try pool.checkAvailable(type.licenceKind)
            return Decision([
                .serviceTypeChanged(ServiceTypeChanged(service: id, from: service.type, to: type)),
                .serviceLicenceReleased(
                    ServiceLicenceReleased(tenant: tenant.id, service: id, kind: service.type.licenceKind)),
                .serviceLicenceAssigned(ServiceLicenceAssigned(tenant: tenant.id, service: id, kind: type.licenceKind)),
            ])
        case .changeDistributionSettings(_, let settings):
            return Decision([.distributionSettingsChanged(DistributionSettingsChanged(service: id, settings: settings))]
            )
        case .assignServiceLicence(_, let kind):
            try requireServiceFeature(kind)
            if pool.serviceLicences[id]?.contains(kind) == true { throw .alreadyExists(.serviceLicence(id, kind)) }
            try pool.checkAvailable(kind)
            return Decision([
                .serviceLicenceAssigned(ServiceLicenceAssigned(tenant: tenant.id, service: id, kind: kind))
            ])
        case .releaseServiceLicence(_, let kind):
            try requireServiceFeature(kind)
            guard pool.serviceLicences[id]?.contains(kind) == true else { throw .notFound(.serviceLicence(id, kind)) }
            return Decision([
                .serviceLicenceReleased(ServiceLicenceReleased(tenant: tenant.id, service: id, kind: kind))
            ])
        case .requestServiceDeletion:
            return Decision([
                .serviceDeletionRequested(ServiceDeletionRequested(service: id)),
                .provisioningScriptPushRequired(
                    ProvisioningScriptPushRequired(tenant: tenant.id, item: .serviceDeletionRequested(id))),
            ])
        default:
            return Decision([])
        }
    }

    private static func requireServiceFeature(_ kind: LicenceKind) throws(DomainError) {
        guard kind.category == .serviceFeature else {
            throw .validation(
                ValidationFailure(
                    field: "kind",
                    rule: "a service feature licence (`interact`); a service's type licence follows its type"))
        }
    }

    // swiftlint:disable:next function_parameter_count
    private static func provision(
        tenantID: TenantID, id: ServiceID, name: String, type: ServiceType, ouID: OUID?, source: ProvisioningSource,
        owner: UserID?, by actor: Actor, in context: DecisionContext
    ) throws(DomainError) -> Decision {
        let tenant = try DecisionGuards.tenant(tenantID, in: context)
        let ouID = ouID ?? tenant.defaultOU
        var scope = DecisionGuards.scope(of: tenant)
        scope.containingOUs = context.ouAndAncestors(ouID)
        if case .user(let userID) = actor, let user = context.users[userID] {
            scope.actorIsTenantUser = user.tenant == tenantID && user.lifecycle == .live
        }
        try PermissionTable.check(
            actor, source == .teams ? .provisionServiceFromTeams : .provisionServiceFromBackend, in: scope)
        try DecisionGuards.usable(tenant, by: actor)
        if context.services[id] != nil { throw .alreadyExists(.service(id)) }
        _ = try context.liveOU(ouID, of: tenantID)
        let name = try FieldRules.text(name, field: "name")
        // From Teams, the provisioning user becomes the owner.
        var ownerID = owner
        if source == .teams, case .user(let userID) = actor { ownerID = userID }
        if let ownerID {
            guard let user = context.users[ownerID], user.tenant == tenantID else { throw .notFound(.user(ownerID)) }
            guard user.lifecycle == .live else { throw .notLive(.user(ownerID), user.lifecycle) }
        }
        try context.pool(for: tenantID).checkAvailable(type.licenceKind)
        var events: [DomainEvent] = [
            .serviceProvisioned(
                ServiceProvisioned(
                    service: id, tenant: tenantID, ou: ouID, name: name, type: type, source: source,
                    provisionedBy: ownerID)),
            .ouContentAdded(OUContentAdded(ou: ouID, content: .service(id))),
            .serviceLicenceAssigned(ServiceLicenceAssigned(tenant: tenantID, service: id, kind: type.licenceKind)),
            .provisioningScriptPushRequired(
                ProvisioningScriptPushRequired(tenant: tenantID, item: .serviceProvisioned(id))),
        ]
        if let ownerID {
            events.append(
                .membershipAssigned(
                    MembershipAssigned(
                        user: ownerID, service: id, role: tenant.provisioning.defaultTeamOwnerRole.membershipRole)))
        }
        return Decision(events, newStreams: [.service(id)])
    }
}

extension Command {
    /// The service a service-level command addresses.
    public var serviceID: ServiceID? {
        switch self {
        case .provisionService(_, let service, _, _, _, _, _), .renameService(let service, _),
            .moveService(let service, _), .changeServiceType(let service, _),
            .changeDistributionSettings(let service, _), .assignServiceLicence(let service, _),
            .releaseServiceLicence(let service, _), .requestServiceDeletion(let service):
            service
        default:
            nil
        }
    }
}
