/// A tenant's licence contingents and live assignments, folded from its `licences-<tenant>` stream.
///
/// All assignments of a tenant live on this one stream, so racing for the last free licence is decided
/// by the append's expected version: exactly one racer wins.
public struct LicencePool: Hashable, Sendable {
    /// The tenant.
    public let tenant: TenantID
    /// Contingent per kind; kinds never set have 0.
    public private(set) var contingents: [LicenceKind: Int]
    /// Licences held by each service.
    public private(set) var serviceLicences: [ServiceID: Set<LicenceKind>]
    /// Licences held by each user.
    public private(set) var userLicences: [UserID: Set<LicenceKind>]
    /// Live assignments per kind.
    public private(set) var usage: [LicenceKind: Int]

    /// An empty pool: every contingent 0, nothing assigned.
    public init(tenant: TenantID) {
        self.tenant = tenant
        contingents = [:]
        serviceLicences = [:]
        userLicences = [:]
        usage = [:]
    }

    /// The contingent of `kind`.
    public func contingent(_ kind: LicenceKind) -> Int { contingents[kind] ?? 0 }
    /// Live assignments of `kind`.
    public func used(_ kind: LicenceKind) -> Int { usage[kind] ?? 0 }
    /// Contingent minus usage; negative when a contingent was lowered below usage.
    public func available(_ kind: LicenceKind) -> Int { contingent(kind) - used(kind) }

    /// Refuses unless one more licence of `kind` fits in the contingent.
    /// - Throws: ``DomainError/licenceExhausted(_:)`` naming kind, usage and contingent.
    public func checkAvailable(_ kind: LicenceKind) throws(DomainError) {
        guard used(kind) + 1 <= contingent(kind) else {
            throw .licenceExhausted(LicenceExhausted(kind: kind, used: used(kind), contingent: contingent(kind)))
        }
    }

    /// Applies one event of the licence stream.
    public static func evolve(_ state: consuming LicencePool?, _ event: DomainEvent) -> LicencePool? {
        switch event {
        case .licenceContingentSet(let e):
            var pool = state ?? LicencePool(tenant: e.tenant)
            pool.contingents[e.kind] = e.contingent
            return pool
        case .serviceLicenceAssigned(let e):
            var pool = state ?? LicencePool(tenant: e.tenant)
            if pool.serviceLicences[e.service, default: []].insert(e.kind).inserted {
                pool.usage[e.kind, default: 0] += 1
            }
            return pool
        case .serviceLicenceReleased(let e):
            guard var pool = state else { return nil }
            if pool.serviceLicences[e.service]?.remove(e.kind) != nil { pool.usage[e.kind, default: 0] -= 1 }
            if pool.serviceLicences[e.service]?.isEmpty == true { pool.serviceLicences[e.service] = nil }
            return pool
        case .userLicenceAssigned(let e):
            var pool = state ?? LicencePool(tenant: e.tenant)
            if pool.userLicences[e.user, default: []].insert(e.kind).inserted { pool.usage[e.kind, default: 0] += 1 }
            return pool
        case .userLicenceReleased(let e):
            guard var pool = state else { return nil }
            if pool.userLicences[e.user]?.remove(e.kind) != nil { pool.usage[e.kind, default: 0] -= 1 }
            if pool.userLicences[e.user]?.isEmpty == true { pool.userLicences[e.user] = nil }
            return pool
        default:
            return state
        }
    }
}

extension LicencePool {
    /// A pool with every field given, as a stored state restores it (``LicencePool/init(from:)``).
    init(
        tenant: TenantID, contingents: [LicenceKind: Int], serviceLicences: [ServiceID: Set<LicenceKind>],
        userLicences: [UserID: Set<LicenceKind>], usage: [LicenceKind: Int]
    ) {
        self.tenant = tenant
        self.contingents = contingents
        self.serviceLicences = serviceLicences
        self.userLicences = userLicences
        self.usage = usage
    }
}
