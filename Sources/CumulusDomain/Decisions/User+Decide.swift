extension User {
    /// The allowed length of user-state names and responsibility profiles.
    public static let stateNameLength = 1...256

    /// Decides a command on a user: creation, removal, memberships, licences, user state, presence (§5, §8).
    ///
    /// Commands of other aggregates give an empty decision; ``CommandRequest/decide(in:)`` routes each
    /// command to its aggregate.
    /// - Throws: ``DomainError``.
    public static func decide(
        _ command: Command, by actor: Actor, in context: DecisionContext
    ) throws(DomainError)
        -> Decision
    {
        if case .createUser(let tenantID, let id, let upn, let displayName, let ouID) = command {
            let tenant = try DecisionGuards.tenantFacts(tenantID, in: context)
            let ouID = ouID ?? tenant.defaultOU
            var scope = DecisionGuards.scope(of: tenant)
            scope.containingOUs = context.ouAndAncestors(ouID)
            scope.user = id
            try PermissionTable.check(actor, .createUser, in: scope)
            try DecisionGuards.usable(tenant, by: actor)
            if context.users[id] != nil { throw .alreadyExists(.user(id)) }
            _ = try context.liveOU(ouID, of: tenantID)
            let upn = try userPrincipalName(upn, for: id, in: context)
            let displayName = try FieldRules.text(displayName, field: "displayName")
            return Decision(
                [
                    .userCreated(
                        UserCreated(
                            user: id, tenant: tenantID, ou: ouID, upn: PersonalData(upn),
                            displayName: PersonalData(displayName))),
                    .ouContentAdded(OUContentAdded(ou: ouID, content: .user(id))),
                    .userPrincipalNameReserved(
                        UserPrincipalNameReserved(tenant: tenantID, user: id, upn: PersonalData(upn))),
                ],
                newStreams: [.user(id)])
        }

        guard let id = command.userID else { return Decision([]) }
        guard let user = context.users[id] else { throw .notFound(.user(id)) }
        // The tenant's facts, not a copy of the whole tenant (see `DecisionGuards.tenantFacts`).
        let tenant = try DecisionGuards.tenantFacts(user.tenant, in: context)
        var scope = DecisionGuards.scope(of: tenant)
        // Only an OU admin's grant reads the OUs above the user, and only a team owner's the user's services
        // (`Grant.admits`): not built for the presence feed's and the other actors' commands.
        if case .ouAdmin = actor { scope.containingOUs = context.ouAndAncestors(user.ou) }
        scope.user = id
        if case .teamOwner = actor { scope.userServices = Set(user.memberships.keys) }
        if case .assignMembership(_, let service, _) = command { scope.service = service }
        if case .removeMembership(_, let service) = command { scope.service = service }
        try PermissionTable.check(actor, command.action, in: scope)
        try DecisionGuards.usable(tenant, by: actor)
        guard user.lifecycle == .live else { throw .notLive(.user(id), user.lifecycle) }

        switch command {
        case .removeUser:
            let pool = context.pool(for: tenant.id)
            var events: [DomainEvent] = [
                .userRemoved(UserRemoved(user: id)),
                .ouContentRemoved(OUContentRemoved(ou: user.ou, content: .user(id))),
                .userPrincipalNameReleased(UserPrincipalNameReleased(tenant: tenant.id, user: id)),
            ]
            for kind in (pool.userLicences[id] ?? []).sorted(by: { $0.code < $1.code }) {
                events.append(.userLicenceReleased(UserLicenceReleased(tenant: tenant.id, user: id, kind: kind)))
            }
            return Decision(events)
        case .assignMembership(_, let serviceID, let role):
            guard let service = context.services[serviceID], service.tenant == tenant.id else {
                throw .notFound(.service(serviceID))
            }
            guard service.lifecycle == .live else { throw .notLive(.service(serviceID), service.lifecycle) }
            if user.memberships[serviceID] == role { return Decision([]) }
            return Decision([.membershipAssigned(MembershipAssigned(user: id, service: serviceID, role: role))])
        case .removeMembership(_, let serviceID):
            guard user.memberships[serviceID] != nil else { throw .notFound(.membership(id, serviceID)) }
            return Decision([.membershipRemoved(MembershipRemoved(user: id, service: serviceID))])
        case .assignUserLicence(_, let kind):
            try requireUserKind(kind)
            let pool = context.pool(for: tenant.id)
            if pool.userLicences[id]?.contains(kind) == true { throw .alreadyExists(.userLicence(id, kind)) }
            try pool.checkAvailable(kind)
            return Decision([.userLicenceAssigned(UserLicenceAssigned(tenant: tenant.id, user: id, kind: kind))])
        case .releaseUserLicence(_, let kind):
            try requireUserKind(kind)
            let pool = context.pool(for: tenant.id)
            guard pool.userLicences[id]?.contains(kind) == true else { throw .notFound(.userLicence(id, kind)) }
            return Decision([.userLicenceReleased(UserLicenceReleased(tenant: tenant.id, user: id, kind: kind))])
        case .changeUserState(_, let name, let profile):
            let state = UserStateName(name: try FieldRules.text(name, field: "state", length: stateNameLength))
            let profile = try profile.map { (p) throws(DomainError) in
                try FieldRules.text(p, field: "responsibilityProfile", length: stateNameLength)
            }
            // A repeated identical state is stored too: projections decide it opens no new row.
            return Decision([
                .userStateChanged(UserStateChanged(user: id, state: state, responsibilityProfile: profile))
            ])
        case .recordPresence(_, let availability, let activity):
            // Without presence tracking only the simplified status is known (seed): the activity is unknown.
            let activity = tenant.presenceTrackingEnabled ? (activity ?? .presenceUnknown) : .presenceUnknown
            return Decision([
                .presenceChanged(PresenceChanged(user: id, availability: availability, activity: activity))
            ])
        case .renameUser(_, let displayName):
            let displayName = try FieldRules.text(displayName, field: "displayName")
            if displayName == user.displayName.value { return Decision([]) }
            return Decision([.userRenamed(UserRenamed(user: id, displayName: PersonalData(displayName)))])
        case .changeUserPrincipalName(_, let upn):
            let upn = try userPrincipalName(upn, for: id, in: context)
            if upn == user.upn.value { return Decision([]) }
            return Decision([
                .userPrincipalNameChanged(UserPrincipalNameChanged(user: id, upn: PersonalData(upn))),
                .userPrincipalNameReserved(
                    UserPrincipalNameReserved(tenant: tenant.id, user: id, upn: PersonalData(upn))),
            ])
        case .moveUser(_, let target):
            guard let ou = context.ous[target], ou.tenant == tenant.id else {
                throw .validation(ValidationFailure(field: "ou", rule: "an organisation unit of the user's tenant"))
            }
            guard ou.lifecycle == .live else {
                throw .validation(ValidationFailure(field: "ou", rule: "a live organisation unit (not deleted)"))
            }
            // Whoever may create users in both OUs: the user's OU was checked above, the target is checked here.
            var targetScope = DecisionGuards.scope(of: tenant)
            targetScope.containingOUs = context.ouAndAncestors(target)
            targetScope.user = id
            try PermissionTable.check(actor, .moveUser, in: targetScope)
            if target == user.ou { return Decision([]) }
            return Decision([
                .userMoved(UserMoved(user: id, from: user.ou, to: target)),
                .ouContentRemoved(OUContentRemoved(ou: user.ou, content: .user(id))),
                .ouContentAdded(OUContentAdded(ou: target, content: .user(id))),
            ])
        case .changeResponsibilityProfile(_, let profile):
            let profile = try profile.map { (p) throws(DomainError) in
                try FieldRules.text(p, field: "responsibilityProfile", length: stateNameLength)
            }
            if profile == user.responsibilityProfile { return Decision([]) }
            return Decision([
                .responsibilityProfileChanged(ResponsibilityProfileChanged(user: id, responsibilityProfile: profile))
            ])
        default:
            return Decision([])
        }
    }

    /// A valid UPN (`local@domain`) that no other live user of the tenant holds, compared case-insensitively.
    /// - Throws: ``DomainError/validation(_:)`` naming `upn` and the rule it broke (never the value).
    private static func userPrincipalName(
        _ upn: String, for user: UserID, in context: DecisionContext
    ) throws(DomainError) -> String {
        guard FieldRules.isEmailAddress(upn) else {
            throw .validation(ValidationFailure(field: "upn", rule: "a user principal name like `name@contoso.com`"))
        }
        if let holder = context.holder(ofUserPrincipalName: upn, other: user) {
            throw .validation(
                ValidationFailure(
                    field: "upn",
                    rule: "unique among the tenant's live users (compared case-insensitively); "
                        + "user \(holder) holds it"))
        }
        return upn
    }

    private static func requireUserKind(_ kind: LicenceKind) throws(DomainError) {
        guard !kind.isAssignedToServices else {
            throw .validation(
                ValidationFailure(
                    field: "kind", rule: "a user, user-feature or modality licence (not a service licence)"))
        }
    }
}

extension Command {
    /// The user a user-level command addresses.
    public var userID: UserID? {
        switch self {
        case .createUser(_, let user, _, _, _), .removeUser(let user), .assignMembership(let user, _, _),
            .removeMembership(let user, _), .assignUserLicence(let user, _), .releaseUserLicence(let user, _),
            .changeUserState(let user, _, _), .recordPresence(let user, _, _), .renameUser(let user, _),
            .changeUserPrincipalName(let user, _), .moveUser(let user, _), .changeResponsibilityProfile(let user, _):
            user
        default:
            nil
        }
    }
}
