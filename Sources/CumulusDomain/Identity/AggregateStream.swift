/// The name of one stream in the event log.
///
/// One stream per aggregate (`tenant-<id>`, `ou-<id>`, `service-<id>`, `user-<id>`), plus the two
/// streams that carry tenant-wide and platform-wide invariants (`licences-<tenant>` and
/// `registry-tenants`); see `docs/domain.md`, "Streams and consistency boundaries", for why those boundaries were chosen.
public struct AggregateStream: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The string the log stores, e.g. `tenant-6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11`.
    public let rawValue: String

    /// Wraps an already formed stream name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The stream of a tenant's own facts (details, settings, state, lifecycle).
    public static func tenant(_ id: TenantID) -> AggregateStream { AggregateStream(rawValue: "tenant-\(id)") }
    /// The stream of one organisation unit.
    public static func ou(_ id: OUID) -> AggregateStream { AggregateStream(rawValue: "ou-\(id)") }
    /// The stream of one service.
    public static func service(_ id: ServiceID) -> AggregateStream { AggregateStream(rawValue: "service-\(id)") }
    /// The stream of one user, including its presence and user-state changes.
    public static func user(_ id: UserID) -> AggregateStream { AggregateStream(rawValue: "user-\(id)") }
    /// The stream of a tenant's licence contingents and assignments.
    public static func licences(_ tenant: TenantID) -> AggregateStream {
        AggregateStream(rawValue: "licences-\(tenant)")
    }
    /// The stream of a tenant's UPN reservations: UPNs are unique among the tenant's live users, and every
    /// creation, UPN change and removal appends here with its expected version, so a race has one winner.
    public static func userPrincipalNames(_ tenant: TenantID) -> AggregateStream {
        AggregateStream(rawValue: "upns-\(tenant)")
    }
    /// The stream every OU move of a tenant appends to with its expected version, so that two concurrent moves
    /// (which could together close a cycle) cannot both be decided on the same tree.
    public static func ouTree(_ tenant: TenantID) -> AggregateStream { AggregateStream(rawValue: "outree-\(tenant)") }
    /// The platform-wide stream reserving tenant names, O365 domains and Azure tenant ids.
    public static let tenantRegistry = AggregateStream(rawValue: "registry-tenants")

    /// The raw name.
    public var description: String { rawValue }

    /// Orders by raw name.
    public static func < (lhs: AggregateStream, rhs: AggregateStream) -> Bool { lhs.rawValue < rhs.rawValue }
}
