/// A technical change that waits for the next provisioning-script run (domain.md §7, SHOULD).
public enum PendingScriptItem: Hashable, Sendable, PayloadCodable, CustomStringConvertible {
    /// The O365 domain changed.
    case o365DomainChanged
    /// The Azure tenant id changed.
    case azureTenantIDChanged
    /// A service was provisioned.
    case serviceProvisioned(ServiceID)
    /// A service's deletion was requested.
    case serviceDeletionRequested(ServiceID)
    /// The tenant's deletion was requested.
    case tenantDeletionRequested

    /// A code byte (0–4), then the service id for the service items.
    public func encode(to writer: inout PayloadWriter) {
        switch self {
        case .o365DomainChanged: writer.writeByte(0)
        case .azureTenantIDChanged: writer.writeByte(1)
        case .serviceProvisioned(let service):
            writer.writeByte(2)
            writer.write(service)
        case .serviceDeletionRequested(let service):
            writer.writeByte(3)
            writer.write(service)
        case .tenantDeletionRequested: writer.writeByte(4)
        }
    }

    /// A code byte (0–4), then the service id for the service items.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        switch try reader.readByte() {
        case 0: self = .o365DomainChanged
        case 1: self = .azureTenantIDChanged
        case 2: self = .serviceProvisioned(try reader.read())
        case 3: self = .serviceDeletionRequested(try reader.read())
        case 4: self = .tenantDeletionRequested
        case let other: throw .unknownCode(other, type: "PendingScriptItem", at: reader.offset - 1)
        }
    }

    /// e.g. "service 6f1c… provisioned".
    public var description: String {
        switch self {
        case .o365DomainChanged: "O365 domain changed"
        case .azureTenantIDChanged: "Azure tenant id changed"
        case .serviceProvisioned(let service): "service \(service) provisioned"
        case .serviceDeletionRequested(let service): "service \(service) deletion requested"
        case .tenantDeletionRequested: "tenant deletion requested"
        }
    }
}
