public import CumulusDomain
public import CumulusLog

/// Current state (domain.md §9): tenants with every setting, lifecycle and pending script items, OUs, services,
/// users with memberships and licences, each user's current presence and user state, and who is routable now.
///
/// Configuration is folded with the domain's own `evolve` functions, so the read side and the write side cannot
/// disagree about what an event means. Presence and user state are per-user facts ordered by `occurredAt` (ties
/// by position): a late event older than the one shown does not replace it.
public struct CurrentStateProjection: Projection {
    /// `current-state`.
    public static let name = "current-state"
    /// Bumped when the derivation changes.
    public static let codeVersion: UInt32 = 2

    /// Tenants by id, including pending-deletion and deleted ones.
    public internal(set) var tenants: [TenantID: Tenant] = [:]
    /// Organisation units by id, including deleted ones.
    public internal(set) var organisationUnits: [OUID: OrganisationUnit] = [:]
    /// Services by id, including deleted ones.
    public internal(set) var services: [ServiceID: Service] = [:]
    /// Users by id, including removed ones; `availability`, `activity`, `userState` are the latest by `occurredAt`.
    public internal(set) var users: [UserID: User] {
        get { storedUsers }
        set {
            storedUsers = newValue
            usersGeneration &+= 1
        }
        // In place (`users[id] = …` must not copy the dictionary), and counted like the setter.
        _modify {
            usersGeneration &+= 1
            yield &storedUsers
        }
    }
    /// The users' storage. Only the feed path changes it directly, and only a value at an index (which keeps every
    /// index valid); every other change goes through ``users``, which counts it in ``usersGeneration``.
    private var storedUsers: [UserID: User] = [:]
    /// Bumped by every change made through ``users`` (any of which may add, remove or move a key): a user's index
    /// cached in ``latestKeys`` under an older generation is looked up again.
    private var usersGeneration: UInt64 = 0
    /// Licence contingents and assignments per tenant.
    public internal(set) var licencePools: [TenantID: LicencePool] = [:]
    /// The presence, user-state and profile keys shown per user, and each user's cached index in ``users``.
    var latestKeys = LatestKeysTable()
    var members: [ServiceID: Set<UserID>] = [:]
    /// Where the batch's touch loop leaves its (meaningless) sum, so that the loads are not optimised away.
    private var sink = 0

    /// Nothing known yet.
    public init() {}

    /// Folds one event.
    public mutating func apply(_ event: RecordedEvent, decoded: DomainEvent) {
        switch decoded {
        case .presenceChanged(let e): show(e, ChangeKey(event))
        case .userStateChanged(let e): show(e, ChangeKey(event))
        case .userCreated(let e):
            users[e.user] = User.evolve(nil, decoded)
        case .responsibilityProfileChanged(let e):
            let slot = latestKeys.slot(making: e.user)
            guard latestKeys.entries[slot].keys.acceptProfile(ChangeKey(event)), let place = userPlace(slot) else {
                return
            }
            storedUsers.values[place].responsibilityProfile = e.responsibilityProfile
        case .userRenamed(let e): users[e.user] = User.evolve(users.removeValue(forKey: e.user), decoded)
        case .userPrincipalNameChanged(let e): users[e.user] = User.evolve(users.removeValue(forKey: e.user), decoded)
        case .userMoved(let e): users[e.user] = User.evolve(users.removeValue(forKey: e.user), decoded)
        case .userRemoved(let e):
            if let user = users[e.user] {
                for service in user.memberships.keys { members[service]?.remove(e.user) }
            }
            users[e.user] = User.evolve(users.removeValue(forKey: e.user), decoded)
        case .membershipAssigned(let e):
            members[e.service, default: []].insert(e.user)
            users[e.user] = User.evolve(users.removeValue(forKey: e.user), decoded)
        case .membershipRemoved(let e):
            members[e.service]?.remove(e.user)
            users[e.user] = User.evolve(users.removeValue(forKey: e.user), decoded)
        case .licenceContingentSet(let e): evolvePool(e.tenant, decoded)
        case .serviceLicenceAssigned(let e): evolvePool(e.tenant, decoded)
        case .serviceLicenceReleased(let e): evolvePool(e.tenant, decoded)
        case .userLicenceAssigned(let e): evolvePool(e.tenant, decoded)
        case .userLicenceReleased(let e): evolvePool(e.tenant, decoded)
        case .ouCreated(let e): organisationUnits[e.ou] = OrganisationUnit.evolve(nil, decoded)
        case .ouRenamed(let e): evolveOU(e.ou, decoded)
        case .ouMoved(let e): evolveOU(e.ou, decoded)
        case .ouDeleted(let e): evolveOU(e.ou, decoded)
        case .ouContentAdded(let e): evolveOU(e.ou, decoded)
        case .ouContentRemoved(let e): evolveOU(e.ou, decoded)
        case .serviceProvisioned(let e): services[e.service] = Service.evolve(nil, decoded)
        case .serviceRenamed(let e): evolveService(e.service, decoded)
        case .serviceMoved(let e): evolveService(e.service, decoded)
        case .serviceTypeChanged(let e): evolveService(e.service, decoded)
        case .distributionSettingsChanged(let e): evolveService(e.service, decoded)
        case .serviceDeletionRequested(let e): evolveService(e.service, decoded)
        case .serviceDeletionCompleted(let e): evolveService(e.service, decoded)
        case .tenantIdentityReserved, .tenantIdentityReleased:
            break  // the registry repeats the tenant's identity; the tenant stream is the source shown
        default:
            if let tenant = decoded.tenantOfTenantStream {
                tenants[tenant] = Tenant.evolve(tenants.removeValue(forKey: tenant), decoded)
            }
        }
    }

    /// Folds a batch; presence and user-state changes read only plain fields of their envelope and are matched
    /// in place (passing the envelope or the payload whole would copy it, retaining and releasing its strings,
    /// for every event).
    public mutating func apply(batch: ArraySlice<DecodedEvent>) {
        batch.withUnsafeBufferPointer { events in
            // First every feed fact's slot: the lookups do not depend on one another, so the processor overlaps
            // their cache misses. Slots never move, so they stay valid through the batch (a user not seen yet
            // gets its slot when its fact comes).
            var keySlots = [Int](repeating: -1, count: events.count)
            for index in events.indices {
                guard let feed = events[index].feed else { continue }
                switch feed.kind {
                case .presence, .userState: keySlots[index] = latestKeys.slots[feed.user] ?? -1
                case .profile, .removed: continue
                }
            }
            // Then the keys and the user each fact will change are loaded, all together, for the same reason.
            var touched = 0
            for slot in keySlots where slot >= 0 {
                touched &+= Int(truncatingIfNeeded: latestKeys.entries[slot].keys.presence?.position ?? 0)
                if latestKeys.entries[slot].placeGeneration == usersGeneration,
                    let place = latestKeys.entries[slot].place
                {
                    touched &+= storedUsers.values[place].availability == nil ? 1 : 2
                }
            }
            sink = touched
            for index in events.indices {
                guard let feed = events[index].feed else {
                    apply(events[index].event, decoded: events[index].decoded)
                    continue
                }
                let key = ChangeKey(
                    occurredAt: events[index].event.occurredAt.microsecondsSinceEpoch,
                    position: events[index].event.position.rawValue)
                switch feed.kind {
                case .presence(let availability, let activity):
                    let slot = keySlots[index] >= 0 ? keySlots[index] : latestKeys.slot(making: feed.user)
                    guard latestKeys.entries[slot].keys.acceptPresence(key), let place = userPlace(slot) else {
                        continue
                    }
                    storedUsers.values[place].availability = availability
                    storedUsers.values[place].activity = activity
                case .userState:
                    // The payload is matched only here, for its names (matching it copies the whole enum).
                    guard case .userStateChanged(let e) = events[index].decoded else { continue }
                    let slot = keySlots[index] >= 0 ? keySlots[index] : latestKeys.slot(making: feed.user)
                    let accepted = latestKeys.entries[slot].keys.acceptUserState(key)
                    guard accepted.state, let place = userPlace(slot) else { continue }
                    Self.show(e, withProfile: accepted.profile, in: &storedUsers.values[place])
                case .profile, .removed:
                    apply(events[index].event, decoded: events[index].decoded)
                }
            }
        }
    }

    /// The index in ``users`` of the user in `slot` of ``latestKeys``: the cached one while no key of ``users`` has
    /// changed since it was found, otherwise looked up (and cached) again.
    private mutating func userPlace(_ slot: Int) -> Dictionary<UserID, User>.Index? {
        if latestKeys.entries[slot].placeGeneration == usersGeneration { return latestKeys.entries[slot].place }
        let place = storedUsers.index(forKey: latestKeys.users[slot])
        latestKeys.entries[slot].place = place
        latestKeys.entries[slot].placeGeneration = usersGeneration
        return place
    }

    // A presence or user-state change is shown unless a later one (by `occurredAt`, then position) already is.
    // One cheap lookup for the keys' slot, the user's index in ``users`` cached beside them, and the user is
    // changed in place (`users[id]?.field = …` would move the whole user out and back for every field).
    private mutating func show(_ e: PresenceChanged, _ key: ChangeKey) {
        let slot = latestKeys.slot(making: e.user)
        guard latestKeys.entries[slot].keys.acceptPresence(key), let place = userPlace(slot) else { return }
        Self.show(e, in: &storedUsers.values[place])
    }

    private mutating func show(_ e: UserStateChanged, _ key: ChangeKey) {
        let slot = latestKeys.slot(making: e.user)
        let accepted = latestKeys.entries[slot].keys.acceptUserState(key)
        guard accepted.state, let place = userPlace(slot) else { return }
        Self.show(e, withProfile: accepted.profile, in: &storedUsers.values[place])
    }

    private static func show(_ e: PresenceChanged, in user: inout User) {
        user.availability = e.availability
        user.activity = e.activity
    }

    private static func show(_ e: UserStateChanged, withProfile: Bool, in user: inout User) {
        user.userState = e.state
        if withProfile { user.responsibilityProfile = e.responsibilityProfile }
    }

    // Each value is taken out of its dictionary before it is evolved, so that it is changed in place: an OU's
    // contents or a pool's assignments would otherwise be copied for every event (quadratic in their size).
    private mutating func evolvePool(_ tenant: TenantID, _ event: DomainEvent) {
        licencePools[tenant] = LicencePool.evolve(licencePools.removeValue(forKey: tenant), event)
    }

    private mutating func evolveOU(_ ou: OUID, _ event: DomainEvent) {
        organisationUnits[ou] = OrganisationUnit.evolve(organisationUnits.removeValue(forKey: ou), event)
    }

    private mutating func evolveService(_ service: ServiceID, _ event: DomainEvent) {
        services[service] = Service.evolve(services.removeValue(forKey: service), event)
    }

    /// The licences a service holds (its type licence and features).
    public func licences(of service: ServiceID) -> Set<LicenceKind> {
        guard let tenant = services[service]?.tenant else { return [] }
        return licencePools[tenant]?.serviceLicences[service] ?? []
    }

    /// The licences assigned to a user.
    public func licences(of user: UserID) -> Set<LicenceKind> {
        guard let tenant = users[user]?.tenant else { return [] }
        return licencePools[tenant]?.userLicences[user] ?? []
    }

    /// The members of a service (every role), sorted by id.
    public func members(of service: ServiceID) -> [UserID] { (members[service] ?? []).sorted() }

    /// The members a task of `service` can be delivered to now (§8), sorted by id.
    ///
    /// Nobody is routable for a service that is not live or whose tenant is not operational, and removed users
    /// never are; for the others ``Routability/allows(availability:activity:distribution:)`` decides.
    public func routableMembers(of service: ServiceID) -> [UserID] {
        guard let candidate = services[service], candidate.lifecycle == .live,
            tenants[candidate.tenant]?.isOperational == true
        else { return [] }
        return members(of: service).filter { id in
            guard let user = users[id], user.lifecycle == .live, let availability = user.availability else {
                return false
            }
            return Routability.allows(
                availability: availability, activity: user.activity, distribution: candidate.distribution)
        }
    }

    /// How many members of `service` are routable now.
    public func routableCount(of service: ServiceID) -> Int { routableMembers(of: service).count }

    /// The services of a tenant, sorted by name then id.
    public func services(in tenant: TenantID) -> [Service] {
        services.values.filter { $0.tenant == tenant }.sorted { $0.name != $1.name ? $0.name < $1.name : $0.id < $1.id }
    }

    /// The users of a tenant, sorted by display name then id.
    public func users(in tenant: TenantID) -> [User] {
        users.values.filter { $0.tenant == tenant }
            .sorted {
                $0.displayName.value != $1.displayName.value
                    ? $0.displayName.value < $1.displayName.value : $0.id < $1.id
            }
    }

    /// The OUs of a tenant, sorted by name then id.
    public func organisationUnits(in tenant: TenantID) -> [OrganisationUnit] {
        organisationUnits.values.filter { $0.tenant == tenant }
            .sorted { $0.name != $1.name ? $0.name < $1.name : $0.id < $1.id }
    }
}

/// Each user's ``LatestKeys`` in a dense slot, found through ``UserSlots`` (one cheap lookup per feed event), with
/// the user's index in the projection's users cached beside them.
struct LatestKeysTable: Sendable {
    /// A user's keys and cached index.
    struct Entry: Sendable {
        var keys = LatestKeys()
        /// The projection's users generation `place` was found in (`UInt64.max`: never).
        var placeGeneration = UInt64.max
        var place: Dictionary<UserID, User>.Index?
    }

    /// Each user's slot in ``entries``.
    private(set) var slots = UserSlots()
    /// The users, by slot.
    private(set) var users: [UserID] = []
    /// The keys and cached indices, by slot.
    var entries: [Entry] = []

    /// The slot of `user`, made (with no keys) on first sight.
    mutating func slot(making user: UserID) -> Int {
        if let slot = slots[user] { return slot }
        slots.set(user, slot: users.count)
        users.append(user)
        entries.append(Entry())
        return entries.count - 1
    }

    /// The keys by user (for encoding, sorted by id).
    var dictionary: [UserID: LatestKeys] {
        var result: [UserID: LatestKeys] = [:]
        result.reserveCapacity(users.count)
        for (slot, user) in users.enumerated() { result[user] = entries[slot].keys }
        return result
    }

    /// A table holding `dictionary`.
    init(_ dictionary: [UserID: LatestKeys] = [:]) {
        for (user, keys) in dictionary { entries[slot(making: user)].keys = keys }
    }
}

/// The keys of the presence and user state shown, so an older late event does not replace them.
struct LatestKeys: Hashable, Sendable {
    var presence: ChangeKey?
    var userState: ChangeKey?
    /// The key of the responsibility profile shown: a user-state change carries one, and a profile change alone
    /// (``ResponsibilityProfileChanged``) may be later than the user state's.
    var profile: ChangeKey?

    /// Takes `key` as the presence shown unless a later one is; whether it was taken.
    mutating func acceptPresence(_ key: ChangeKey) -> Bool {
        guard presence.map({ $0 < key }) ?? true else { return false }
        presence = key
        return true
    }

    /// Takes `key` as the user state shown unless a later one is, and its profile unless a later profile is;
    /// whether each was taken.
    mutating func acceptUserState(_ key: ChangeKey) -> (state: Bool, profile: Bool) {
        guard userState.map({ $0 < key }) ?? true else { return (false, false) }
        userState = key
        return (true, acceptProfile(key))
    }

    /// Takes `key` as the profile shown unless a later one is; whether it was taken.
    mutating func acceptProfile(_ key: ChangeKey) -> Bool {
        guard profile.map({ $0 < key }) ?? true else { return false }
        profile = key
        return true
    }
}

extension DomainEvent {
    /// The tenant, for events of a `tenant-<id>` stream.
    var tenantOfTenantStream: TenantID? {
        switch self {
        case .tenantCreated(let e): e.tenant
        case .tenantRenamed(let e): e.tenant
        case .o365DomainChanged(let e): e.tenant
        case .azureTenantIDChanged(let e): e.tenant
        case .securityGroupsChanged(let e): e.tenant
        case .companyDetailsChanged(let e): e.tenant
        case .technicalContactChanged(let e): e.tenant
        case .partnerAssigned(let e): e.tenant
        case .dataPrivacySettingsChanged(let e): e.tenant
        case .provisioningSettingsChanged(let e): e.tenant
        case .defaultOUChanged(let e): e.tenant
        case .outboundSettingsChanged(let e): e.tenant
        case .interactSettingsChanged(let e): e.tenant
        case .widgetKeyRefreshed(let e): e.tenant
        case .assistantSettingsChanged(let e): e.tenant
        case .attendantConsoleSettingsChanged(let e): e.tenant
        case .presenceTrackingSettingsChanged(let e): e.tenant
        case .presenceTrackingPermissionChanged(let e): e.tenant
        case .instantMessagingSettingsChanged(let e): e.tenant
        case .externalTaskSettingsChanged(let e): e.tenant
        case .emailSettingsChanged(let e): e.tenant
        case .timeZoneChanged(let e): e.tenant
        case .tenantStateChanged(let e): e.tenant
        case .tenantDeletionRequested(let e): e.tenant
        case .tenantDeletionCompleted(let e): e.tenant
        case .provisioningScriptPushRequired(let e): e.tenant
        case .provisioningScriptRunRecorded(let e): e.tenant
        case .roleAssigned(let e): e.tenant
        case .roleRevoked(let e): e.tenant
        default: nil
        }
    }
}
