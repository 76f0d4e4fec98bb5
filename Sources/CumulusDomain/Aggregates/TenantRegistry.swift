public import Foundation

/// Names, O365 domains and Azure tenant ids held by live tenants, folded from `registry-tenants`.
///
/// Every creation and every change of one of these values appends to this one stream with its expected
/// version, so two tenants racing for the same value cannot both win. Names and domains compare
/// case-insensitively.
public struct TenantRegistry: Hashable, Sendable {
    /// What one live tenant holds.
    public struct Reservation: Hashable, Sendable {
        /// The name.
        public var name: String
        /// The O365 domain.
        public var o365Domain: DNSName
        /// The Azure tenant GUID.
        public var azureTenantID: UUID
    }

    /// Reservations per live tenant.
    public private(set) var reservations: [TenantID: Reservation] = [:]
    private var names: [String: TenantID] = [:]
    private var domains: [String: TenantID] = [:]
    private var azureIDs: [UUID: TenantID] = [:]

    /// An empty registry.
    public init() {}

    /// The live tenant other than `tenant` holding `name`, if any.
    public func holder(ofName name: String, other tenant: TenantID) -> TenantID? {
        names[name.lowercased()].flatMap { $0 == tenant ? nil : $0 }
    }

    /// The live tenant other than `tenant` holding `domain`, if any.
    public func holder(ofDomain domain: DNSName, other tenant: TenantID) -> TenantID? {
        domains[domain.value].flatMap { $0 == tenant ? nil : $0 }
    }

    /// The live tenant other than `tenant` holding `azureTenantID`, if any.
    public func holder(ofAzureTenantID azureTenantID: UUID, other tenant: TenantID) -> TenantID? {
        azureIDs[azureTenantID].flatMap { $0 == tenant ? nil : $0 }
    }

    /// Refuses unless name, domain and Azure tenant id are free for `tenant`.
    /// - Throws: ``DomainError/conflict(_:)`` naming the first field already held.
    public func checkFree(
        name: String, o365Domain: DNSName, azureTenantID: UUID, for tenant: TenantID
    )
        throws(DomainError)
    {
        if let holder = holder(ofName: name, other: tenant) {
            throw .conflict(UniquenessConflict(field: "name", heldBy: holder))
        }
        if let holder = holder(ofDomain: o365Domain, other: tenant) {
            throw .conflict(UniquenessConflict(field: "o365Domain", heldBy: holder))
        }
        if let holder = holder(ofAzureTenantID: azureTenantID, other: tenant) {
            throw .conflict(UniquenessConflict(field: "tenantId", heldBy: holder))
        }
    }

    /// Applies one event of the registry stream.
    public static func evolve(_ state: TenantRegistry, _ event: DomainEvent) -> TenantRegistry {
        var registry = state
        switch event {
        case .tenantIdentityReserved(let e):
            registry.release(e.tenant)
            registry.reservations[e.tenant] = Reservation(
                name: e.name, o365Domain: e.o365Domain, azureTenantID: e.azureTenantID)
            registry.names[e.name.lowercased()] = e.tenant
            registry.domains[e.o365Domain.value] = e.tenant
            registry.azureIDs[e.azureTenantID] = e.tenant
        case .tenantIdentityReleased(let e):
            registry.release(e.tenant)
        default: break
        }
        return registry
    }

    private mutating func release(_ tenant: TenantID) {
        guard let old = reservations.removeValue(forKey: tenant) else { return }
        names[old.name.lowercased()] = nil
        domains[old.o365Domain.value] = nil
        azureIDs[old.azureTenantID] = nil
    }
}

extension TenantRegistry {
    /// The lookup tables by (lower-cased) name, domain and Azure id, as a stored state keeps them.
    var indexes: (names: [String: TenantID], domains: [String: TenantID], azureIDs: [UUID: TenantID]) {
        (names, domains, azureIDs)
    }

    /// A registry with every table given, as a stored state restores it (``TenantRegistry/init(from:)``).
    init(
        reservations: [TenantID: Reservation], names: [String: TenantID], domains: [String: TenantID],
        azureIDs: [UUID: TenantID]
    ) {
        self.reservations = reservations
        self.names = names
        self.domains = domains
        self.azureIDs = azureIDs
    }
}
