import CumulusDomain
import Foundation

/// An in-memory world for decision tests: decides commands and folds the accepted events back in,
/// the way a command handler would after appending them.
struct TestWorld {
    var context = DecisionContext()
    var now: Int64 = 1_795_000_000_000_000
    /// Every accepted event, in order.
    var log: [DomainEvent] = []

    static let tenant = TenantID(UUID(uuidString: "00000000-0000-4000-8000-000000000001")!)
    static let otherTenant = TenantID(UUID(uuidString: "00000000-0000-4000-8000-000000000002")!)
    static let partner = PartnerID(UUID(uuidString: "00000000-0000-4000-8000-0000000000a1")!)
    static let otherPartner = PartnerID(UUID(uuidString: "00000000-0000-4000-8000-0000000000a2")!)
    static let root = OUID(UUID(uuidString: "00000000-0000-4000-8000-0000000000b0")!)
    static let azureID = "9a0c7a4e-3f1b-4c55-8d7e-0c1d2e3f4a5b"

    /// A world with one trial tenant (partner assigned, root OU) created by a systemAdmin.
    static func withTenant() throws -> TestWorld {
        var world = TestWorld()
        try world.run(createTenant())
        return world
    }

    static func createTenant(
        _ id: TenantID = tenant, name: String = "Contoso", domain: String = "contoso.onmicrosoft.com",
        azureID: String = azureID, root: OUID = root, partner: PartnerID? = partner
    ) -> Command {
        .createTenant(
            tenant: id, name: name, o365Domain: domain, azureTenantID: azureID, partner: partner, rootOU: root,
            rootOUName: "Root", widgetKey: UUID())
    }

    /// Decides `command` by `actor` and applies the events; returns the decision.
    @discardableResult
    mutating func run(_ command: Command, by actor: Actor = .systemAdmin) throws(DomainError) -> Decision {
        let decision = try CommandRequest(command: command, actor: actor, occurredAt: now).decide(in: context)
        context.apply(decision.events)
        log.append(contentsOf: decision.events)
        now += 1_000_000
        return decision
    }

    /// The error `command` is refused with, or `nil` if it was accepted (and then applied).
    mutating func refusal(_ command: Command, by actor: Actor = .systemAdmin) -> DomainError? {
        do {
            try run(command, by: actor)
            return nil
        } catch {
            return error
        }
    }

    var tenantState: Tenant { context.tenant! }
    var pool: LicencePool { context.licences! }

    @discardableResult
    mutating func createOU(_ name: String, under parent: OUID = root, by actor: Actor = .systemAdmin) throws -> OUID {
        let id = OUID(UUID())
        try run(.createOU(tenant: Self.tenant, ou: id, parent: parent, name: name), by: actor)
        return id
    }

    @discardableResult
    mutating func createUser(in ou: OUID? = nil, by actor: Actor = .systemAdmin) throws -> UserID {
        let id = UserID(UUID())
        try run(
            .createUser(
                tenant: Self.tenant, user: id, upn: "agent\(log.count)@contoso.com", displayName: "Agent", ou: ou),
            by: actor)
        return id
    }

    @discardableResult
    mutating func provision(
        _ type: ServiceType = .advancedRouting, in ou: OUID? = nil, source: ProvisioningSource = .backend,
        owner: UserID? = nil, by actor: Actor = .systemAdmin
    ) throws -> ServiceID {
        let id = ServiceID(UUID())
        try run(
            .provisionService(
                tenant: Self.tenant, service: id, name: "Service", type: type, ou: ou, source: source, owner: owner),
            by: actor)
        return id
    }

    mutating func setContingent(_ kind: LicenceKind, _ value: Int) throws {
        try run(.setLicenceContingent(tenant: Self.tenant, kind: kind, contingent: value))
    }
}

extension DomainError {
    var isPermissionDenied: Bool { if case .permissionDenied = self { true } else { false } }
    var validationField: String? { if case .validation(let failure) = self { failure.field } else { nil } }
}
