public import Foundation

/// The Azure security groups whose members administer the tenant.
public struct SecurityGroups: Hashable, Sendable, PayloadCodable {
    /// Object id of the "Partner Admin of a Tenant" group.
    public var partnerAdminGroup: UUID?
    /// Object id of the "Tenant Admin" group.
    public var tenantAdminGroup: UUID?

    /// Creates the pair (both unset by default).
    public init(partnerAdminGroup: UUID? = nil, tenantAdminGroup: UUID? = nil) {
        self.partnerAdminGroup = partnerAdminGroup
        self.tenantAdminGroup = tenantAdminGroup
    }

    /// Appends the fields in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(partnerAdminGroup)
        writer.write(tenantAdminGroup)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        partnerAdminGroup = try reader.read()
        tenantAdminGroup = try reader.read()
    }
}
