/// The current state of a service, folded from its `service-<id>` stream.
public struct Service: Hashable, Sendable {
    /// The service id.
    public let id: ServiceID
    /// The tenant it belongs to.
    public let tenant: TenantID
    /// Its organisation unit.
    public var ou: OUID
    /// Its name.
    public var name: String
    /// Its type; default `advancedRouting`.
    public var type: ServiceType
    /// Where it was provisioned from.
    public let source: ProvisioningSource
    /// Distribution settings; all `false` by default.
    public var distribution: DistributionSettings
    /// `live` → `pendingDeletion` → `deleted`.
    public var lifecycle: Lifecycle

    /// Applies one event of the service's stream.
    public static func evolve(_ state: consuming Service?, _ event: DomainEvent) -> Service? {
        if case .serviceProvisioned(let e) = event {
            return Service(
                id: e.service, tenant: e.tenant, ou: e.ou, name: e.name, type: e.type, source: e.source,
                distribution: DistributionSettings(), lifecycle: .live)
        }
        guard var service = state else { return nil }
        switch event {
        case .serviceRenamed(let e): service.name = e.name
        case .serviceMoved(let e): service.ou = e.to
        case .serviceTypeChanged(let e): service.type = e.to
        case .distributionSettingsChanged(let e): service.distribution = e.settings
        case .serviceDeletionRequested: service.lifecycle = .pendingDeletion
        case .serviceDeletionCompleted: service.lifecycle = .deleted
        default: break
        }
        return service
    }
}
