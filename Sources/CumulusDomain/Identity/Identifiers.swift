public import Foundation

/// Identifies a tenant (a customer organisation) inside Cumulus.
public struct TenantID: EntityIdentifier {
    /// The underlying UUID.
    public let uuid: UUID
    /// Wraps a UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }
}

/// Identifies an organisation unit.
public struct OUID: EntityIdentifier {
    /// The underlying UUID.
    public let uuid: UUID
    /// Wraps a UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }
}

/// Identifies a service (a Nimbus team).
public struct ServiceID: EntityIdentifier {
    /// The underlying UUID.
    public let uuid: UUID
    /// Wraps a UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }
}

/// Identifies a user (an agent or administrator of a tenant).
public struct UserID: EntityIdentifier {
    /// The underlying UUID.
    public let uuid: UUID
    /// Wraps a UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }
}

/// Identifies a partner (a reseller that administers several tenants).
public struct PartnerID: EntityIdentifier {
    /// The underlying UUID.
    public let uuid: UUID
    /// Wraps a UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }
}
