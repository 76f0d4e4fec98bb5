import CumulusDomain
import Foundation
import Testing

/// Every action against every actor kind, written out independently of the source table.
@Suite struct PermissionTableTests {
    static let t = TenantID(UUID())
    static let p = PartnerID(UUID())
    static let root = OUID(UUID())
    static let child = OUID(UUID())
    static let s = ServiceID(UUID())
    static let u = UserID(UUID())

    /// The target lies in `child`, below `root`; the ouAdmin administers `root`.
    static let scope = PermissionScope(
        tenant: t, tenantPartner: p, containingOUs: [child, root], service: s, user: u, userServices: [s],
        actorIsTenantUser: true, teamsProvisioningPolicy: .everyone)

    /// One in-scope actor of each kind.
    static func inScope(_ kind: ActorKind) -> Actor {
        switch kind {
        case .systemAdmin: .systemAdmin
        case .partnerAdmin: .partnerAdmin(p)
        case .tenantAdmin: .tenantAdmin(t)
        case .ouAdmin: .ouAdmin(t, root)
        case .teamOwner: .teamOwner(s)
        case .teamOwnerLimited: .teamOwnerLimited(s)
        case .teamMember: .teamMember(s)
        case .userSupervisor: .userSupervisor(t)
        case .presenceFeed: .presenceFeed(t)
        case .provisioningScript: .provisioningScript(t)
        case .user: .user(u)
        case .guest: .guest
        }
    }

    /// The same kind, scoped to something else (another partner, tenant, OU, service or user).
    static func outOfScope(_ kind: ActorKind) -> Actor? {
        let other = TenantID(UUID())
        switch kind {
        case .systemAdmin, .guest: return nil
        case .partnerAdmin: return .partnerAdmin(PartnerID(UUID()))
        case .tenantAdmin: return .tenantAdmin(other)
        case .ouAdmin: return .ouAdmin(t, OUID(UUID()))
        case .teamOwner: return .teamOwner(ServiceID(UUID()))
        case .teamOwnerLimited: return .teamOwnerLimited(ServiceID(UUID()))
        case .teamMember: return .teamMember(ServiceID(UUID()))
        case .userSupervisor: return .userSupervisor(other)
        case .presenceFeed: return .presenceFeed(other)
        case .provisioningScript: return .provisioningScript(other)
        case .user: return .user(UserID(UUID()))
        }
    }

    static let admins: Set<ActorKind> = [.systemAdmin, .partnerAdmin, .tenantAdmin]

    /// domain.md §1, row by row.
    static let expected: [Action: Set<ActorKind>] = [
        .createTenant: [.systemAdmin, .partnerAdmin],
        .changeTenantIdentity: [.systemAdmin, .partnerAdmin],
        .changeCompanyDetails: admins,
        .assignPartner: [.systemAdmin],
        .changeDataPrivacySettings: [.systemAdmin, .tenantAdmin],
        .changeTenantSettings: admins,
        .changeTenantState: [.systemAdmin],
        .setLicenceContingent: [.systemAdmin],
        .requestTenantDeletion: [.systemAdmin, .partnerAdmin],
        .recordProvisioningScriptRun: [.provisioningScript],
        .createOU: admins.union([.ouAdmin]),
        .renameOU: admins.union([.ouAdmin]),
        .moveOU: admins.union([.ouAdmin]),
        .deleteOU: admins.union([.ouAdmin]),
        .provisionServiceFromTeams: admins.union([.ouAdmin, .user]),
        .provisionServiceFromBackend: admins.union([.ouAdmin]),
        .changeServiceSettings: admins.union([.ouAdmin, .teamOwner]),
        .changeDistributionSettings: admins.union([.ouAdmin, .teamOwner, .teamOwnerLimited]),
        .assignServiceLicence: admins.union([.ouAdmin, .teamOwner]),
        .createUser: admins.union([.ouAdmin]),
        .removeUser: admins.union([.ouAdmin]),
        .changeUser: admins.union([.ouAdmin]),
        .moveUser: admins.union([.ouAdmin]),
        .assignUserLicence: admins.union([.ouAdmin]),
        .manageMembership: admins.union([.ouAdmin, .teamOwner]),
        .changeUserState: admins.union([.user, .teamOwner]),
        .appendPresence: [.presenceFeed],
        .readUserStateReport: [.userSupervisor, .partnerAdmin],
        .manageRoles: admins.union([.ouAdmin]),
    ]

    @Test func everyActionHasARuleAndAnExpectation() {
        #expect(Set(Self.expected.keys) == Set(Action.allCases))
        #expect(Set(PermissionTable.rules.keys) == Set(Action.allCases))
    }

    @Test(arguments: Action.allCases)
    func everyActorKindAgainstAction(action: Action) {
        let allowed = Self.expected[action] ?? []
        for kind in ActorKind.allCases {
            let actor = Self.inScope(kind)
            let shouldAllow = allowed.contains(kind)
            #expect(
                PermissionTable.allows(actor, action, in: Self.scope) == shouldAllow,
                "\(kind) on \(action): expected \(shouldAllow ? "allowed" : "refused")")
            do {
                try PermissionTable.check(actor, action, in: Self.scope)
                #expect(shouldAllow, "\(kind) on \(action) should be refused")
            } catch {
                #expect(!shouldAllow, "\(kind) on \(action) should be allowed")
                guard case .permissionDenied(let denial) = error else {
                    Issue.record("wrong error \(error)")
                    continue
                }
                #expect(denial.actor == actor)
                #expect(denial.action == action)
                #expect(denial.rule.hasPrefix(PermissionTable.rule(for: action).rule))
                #expect(error.description.contains(actor.description))
                #expect(error.description.contains(action.rawValue))
                #expect(error.description.contains(denial.rule))
            }
            if let other = Self.outOfScope(kind) {
                var otherScope = Self.scope
                otherScope.actorIsTenantUser = false  // the other user is not one of this tenant's users
                #expect(!PermissionTable.allows(other, action, in: otherScope), "\(other) out of scope on \(action)")
            }
        }
    }

    @Test func ouAdminMayNotActOnItsOwnOUOrAbove() {
        var scope = Self.scope
        scope.containingOUs = []  // the target is the root itself
        #expect(!PermissionTable.allows(.ouAdmin(Self.t, Self.root), .deleteOU, in: scope))
        scope.containingOUs = [Self.root]
        #expect(PermissionTable.allows(.ouAdmin(Self.t, Self.root), .deleteOU, in: scope))
        #expect(!PermissionTable.allows(.ouAdmin(Self.t, Self.child), .deleteOU, in: scope))
        #expect(!PermissionTable.allows(.ouAdmin(TenantID(UUID()), Self.root), .deleteOU, in: scope))
    }

    @Test(arguments: ServiceProvisioningPolicy.allCases)
    func teamsProvisioningFollowsTheTenantSetting(policy: ServiceProvisioningPolicy) {
        var scope = Self.scope
        scope.teamsProvisioningPolicy = policy
        let expected: Set<ActorKind> =
            switch policy {
            case .everyone: Self.admins.union([.ouAdmin, .user])
            case .tenantAndOUAdmins: Self.admins.union([.ouAdmin])
            case .tenantAdmins: Self.admins
            case .noOne: []
            }
        for kind in ActorKind.allCases {
            #expect(
                PermissionTable.allows(Self.inScope(kind), .provisionServiceFromTeams, in: scope)
                    == expected.contains(kind),
                "\(kind) with \(policy)")
            // The backend ignores the Teams setting.
            #expect(
                PermissionTable.allows(Self.inScope(kind), .provisionServiceFromBackend, in: scope)
                    == Self.admins.union([.ouAdmin]).contains(kind))
        }
    }

    @Test func teamsUserMustBelongToTheTenant() {
        var scope = Self.scope
        scope.actorIsTenantUser = false
        #expect(!PermissionTable.allows(.user(Self.u), .provisionServiceFromTeams, in: scope))
    }

    @Test func teamOwnerOfAnotherServiceMayNotChangeUserState() {
        var scope = Self.scope
        scope.userServices = [ServiceID(UUID())]
        #expect(!PermissionTable.allows(.teamOwner(Self.s), .changeUserState, in: scope))
        #expect(!PermissionTable.allows(.teamMember(Self.s), .changeUserState, in: scope))
    }
}
