/// Service-provisioning settings of a tenant (the default OU is kept apart: it also moves by itself).
public struct ProvisioningSettings: Hashable, Sendable, PayloadCodable {
    /// Who may provision a service from the Teams UI; default `everyone`.
    public var serviceProvisioningViaTeams: ServiceProvisioningPolicy
    /// The role of the provisioning user in services provisioned later; default `teamOwner`.
    public var defaultTeamOwnerRole: DefaultTeamOwnerRole

    /// Creates the settings with domain.md's defaults.
    public init(
        serviceProvisioningViaTeams: ServiceProvisioningPolicy = .everyone,
        defaultTeamOwnerRole: DefaultTeamOwnerRole = .teamOwner
    ) {
        self.serviceProvisioningViaTeams = serviceProvisioningViaTeams
        self.defaultTeamOwnerRole = defaultTeamOwnerRole
    }

    /// Two bytes.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(serviceProvisioningViaTeams)
        writer.write(defaultTeamOwnerRole)
    }

    /// Two bytes.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        serviceProvisioningViaTeams = try reader.read()
        defaultTeamOwnerRole = try reader.read()
    }
}
