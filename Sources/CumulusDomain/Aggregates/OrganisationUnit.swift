/// The current state of an organisation unit, folded from its `ou-<id>` stream.
public struct OrganisationUnit: Hashable, Sendable {
    /// The OU id.
    public let id: OUID
    /// The tenant it belongs to.
    public let tenant: TenantID
    /// The parent; `nil` for the root.
    public var parent: OUID?
    /// The name.
    public var name: String
    /// `live` or `deleted`.
    public var lifecycle: Lifecycle
    /// What is placed directly in it.
    public var contents: Set<OUContent>

    /// Whether this is the tenant's root.
    public var isRoot: Bool { parent == nil }

    /// Number of direct sub-OUs.
    public var subOUCount: Int { contents.count { if case .subOU = $0 { true } else { false } } }
    /// Number of services placed in it.
    public var serviceCount: Int { contents.count { if case .service = $0 { true } else { false } } }
    /// Number of users placed in it.
    public var userCount: Int { contents.count { if case .user = $0 { true } else { false } } }

    /// Applies one event of the OU's stream.
    public static func evolve(_ state: consuming OrganisationUnit?, _ event: DomainEvent) -> OrganisationUnit? {
        if case .ouCreated(let e) = event {
            return OrganisationUnit(
                id: e.ou, tenant: e.tenant, parent: e.parent, name: e.name, lifecycle: .live, contents: [])
        }
        guard var ou = state else { return nil }
        switch event {
        case .ouRenamed(let e): ou.name = e.name
        case .ouMoved(let e): ou.parent = e.to
        case .ouDeleted: ou.lifecycle = .deleted
        case .ouContentAdded(let e): ou.contents.insert(e.content)
        case .ouContentRemoved(let e): ou.contents.remove(e.content)
        default: break
        }
        return ou
    }
}
