/// The state a decision reads, loaded by the command handler by folding the relevant streams.
///
/// The handler loads the tenant, its licence pool, the registry (for identity changes), the tenant's
/// OU tree, and the services and users the command names (for tenant deletion and script runs: all the
/// tenant's services). It appends the decision with the versions it loaded those streams at, so a
/// concurrent change to anything the decision read makes the append fail and the command retry.
public struct DecisionContext: Hashable, Sendable {
    /// Live tenants' names, domains and Azure ids.
    public var registry: TenantRegistry
    /// The tenant, if it exists.
    public var tenant: Tenant?
    /// The tenant's licence pool (an empty pool if its stream has no events yet).
    public var licences: LicencePool?
    /// The tenant's organisation units.
    public var ous: [OUID: OrganisationUnit]
    /// Services the command touches (all of the tenant's for deletion and script runs).
    public var services: [ServiceID: Service]
    /// Users the command touches (and the acting user, for provisioning from Teams).
    public var users: [UserID: User]
    /// The UPNs of the tenant's live users, lowercased (UPNs compare case-insensitively, as Azure AD does).
    public private(set) var userPrincipalNames: [String: UserID] = [:]

    /// Creates a context; everything defaults to empty.
    public init(
        registry: TenantRegistry = TenantRegistry(), tenant: Tenant? = nil, licences: LicencePool? = nil,
        ous: [OUID: OrganisationUnit] = [:], services: [ServiceID: Service] = [:], users: [UserID: User] = [:]
    ) {
        self.registry = registry
        self.tenant = tenant
        self.licences = licences
        self.ous = ous
        self.services = services
        self.users = users
        for user in users.values where user.lifecycle == .live {
            userPrincipalNames[user.upn.value.lowercased()] = user.id
        }
    }

    /// Folds events of any streams into the context (handy for tests and in-memory handlers).
    ///
    /// The context describes one tenant: a `TenantCreated` makes that tenant current, and tenant or
    /// licence events of other tenants are ignored (registry events always apply).
    public mutating func apply(_ event: DomainEvent) {
        // The feed's facts change one user and nothing else: no stream names are built for them (the import folds
        // every event twice, speculating and catching up, and building names was a visible part of it).
        // They change a known user in place (one lookup; taking the user out and putting it back was two, and a
        // deletion) and leave an unknown one unknown, exactly as `User.evolve` does.
        switch event {
        case .presenceChanged(let e):
            if let index = users.index(forKey: e.user) { User.apply(event, to: &users.values[index]) }
            return
        case .userStateChanged(let e):
            if let index = users.index(forKey: e.user) { User.apply(event, to: &users.values[index]) }
            return
        default: break
        }
        registry = TenantRegistry.evolve(registry, event)
        // The context holds one tenant: events of another tenant's streams leave it unchanged.
        let stream = event.stream
        if case .tenantCreated = event {
            tenant = Tenant.evolve(nil, event)
        } else if let current = tenant?.id, stream == .tenant(current) {
            tenant = Tenant.evolve(tenant.take(), event)
        }
        // Each value is taken out before it is changed, so that it is changed in place rather than copied (an
        // OU's contents or a pool's assignments would otherwise be copied for every event: quadratic).
        if licences.map({ stream == .licences($0.tenant) }) ?? stream.rawValue.hasPrefix("licences-") {
            licences = LicencePool.evolve(licences.take(), event)
        }
        if let ou = ouID(of: event) { ous[ou] = OrganisationUnit.evolve(ous.removeValue(forKey: ou), event) }
        if let service = serviceID(of: event) {
            services[service] = Service.evolve(services.removeValue(forKey: service), event)
        }
        if let user = userID(of: event) {
            let old = users.removeValue(forKey: user)
            let new = User.evolve(old, event)
            switch event {
            case .userCreated, .userPrincipalNameChanged, .userRemoved:
                // Only the events that change a UPN or liveness touch the index (lowercasing costs).
                if let old, old.lifecycle == .live, userPrincipalNames[old.upn.value.lowercased()] == user {
                    userPrincipalNames[old.upn.value.lowercased()] = nil
                }
                if let new, new.lifecycle == .live { userPrincipalNames[new.upn.value.lowercased()] = user }
            default: break
            }
            users[user] = new
        }
    }

    /// The live user other than `user` holding `upn` (compared case-insensitively), if any.
    public func holder(ofUserPrincipalName upn: String, other user: UserID) -> UserID? {
        userPrincipalNames[upn.lowercased()].flatMap { $0 == user ? nil : $0 }
    }

    /// Folds several events in order.
    public mutating func apply(_ events: [DomainEvent]) {
        for event in events { apply(event) }
    }

    private func ouID(of event: DomainEvent) -> OUID? {
        switch event {
        case .ouCreated(let e): e.ou
        case .ouRenamed(let e): e.ou
        case .ouMoved(let e): e.ou
        case .ouDeleted(let e): e.ou
        case .ouContentAdded(let e): e.ou
        case .ouContentRemoved(let e): e.ou
        default: nil
        }
    }

    private func serviceID(of event: DomainEvent) -> ServiceID? {
        switch event {
        case .serviceProvisioned(let e): e.service
        case .serviceRenamed(let e): e.service
        case .serviceMoved(let e): e.service
        case .serviceTypeChanged(let e): e.service
        case .distributionSettingsChanged(let e): e.service
        case .serviceDeletionRequested(let e): e.service
        case .serviceDeletionCompleted(let e): e.service
        default: nil
        }
    }

    private func userID(of event: DomainEvent) -> UserID? {
        switch event {
        case .userCreated(let e): e.user
        case .userRemoved(let e): e.user
        case .membershipAssigned(let e): e.user
        case .membershipRemoved(let e): e.user
        case .presenceChanged(let e): e.user
        case .userStateChanged(let e): e.user
        case .userRenamed(let e): e.user
        case .userPrincipalNameChanged(let e): e.user
        case .userMoved(let e): e.user
        case .responsibilityProfileChanged(let e): e.user
        default: nil
        }
    }

    /// The live OU `id` of `tenant`.
    /// - Throws: ``DomainError/notFound(_:)`` or ``DomainError/notLive(_:_:)``.
    func liveOU(_ id: OUID, of tenant: TenantID) throws(DomainError) -> OrganisationUnit {
        guard let ou = ous[id], ou.tenant == tenant else { throw .notFound(.ou(id)) }
        guard ou.lifecycle == .live else { throw .notLive(.ou(id), ou.lifecycle) }
        return ou
    }

    /// `id` and the OUs above it, nearest first, up to the root.
    func ouAndAncestors(_ id: OUID) -> [OUID] {
        var chain: [OUID] = []
        var current: OUID? = id
        while let ou = current, !chain.contains(ou) {
            chain.append(ou)
            current = ous[ou]?.parent
        }
        return chain
    }

    /// The OUs strictly above `id`, nearest first.
    func ancestors(_ id: OUID) -> [OUID] { Array(ouAndAncestors(id).dropFirst()) }

    /// The tenant's licence pool, empty if none was loaded.
    func pool(for tenant: TenantID) -> LicencePool { licences ?? LicencePool(tenant: tenant) }
}
