public import CumulusDomain

/// One line of the licence counters: a tenant's contingent, usage and what is left of one licence kind.
public struct LicenceCounter: Hashable, Sendable {
    /// The tenant.
    public var tenant: TenantID
    /// The licence kind.
    public var kind: LicenceKind
    /// How many the tenant may use (set by a systemAdmin).
    public var contingent: Int
    /// How many live assignments use one.
    public var used: Int

    /// Assembles a counter.
    public init(tenant: TenantID, kind: LicenceKind, contingent: Int, used: Int) {
        self.tenant = tenant
        self.kind = kind
        self.contingent = contingent
        self.used = used
    }

    /// `contingent - used`; negative after a contingent was lowered below usage (the overage).
    public var available: Int { contingent - used }
}
