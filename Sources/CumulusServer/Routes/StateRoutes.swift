import CumulusDomain
import CumulusLog
import CumulusProjections
import Foundation
import Hummingbird

/// The entity kinds of the state routes.
enum EntityKind: String, CaseIterable, Sendable {
    case tenants, ous, services, users
}

extension CumulusServer {
    /// `GET /v1/{tenants|ous|services|users}[/{id}[/audit]]`.
    ///
    /// Who may read (as `cumulus state` and `cumulus audit`): systemAdmin; a partnerAdmin of the tenant's
    /// partner (identifiers masked unless the tenant allows them); the tenant's tenantAdmin; an ouAdmin of
    /// the tenant; for the audit also the tenant's `Auditor`.
    func addStateRoutes(to router: Router<ServerContext>) {
        for kind in EntityKind.allCases {
            router.get("v1/\(kind.rawValue)") { request, _ in
                let caller = try await authenticate(request)
                return try await list(kind, request: request, caller: caller)
            }
            router.get("v1/\(kind.rawValue)/:id") { request, context in
                let caller = try await authenticate(request)
                let id = context.parameters.get("id") ?? ""
                return try await entity(kind, id: id, request: request, caller: caller, audit: false)
            }
            router.get("v1/\(kind.rawValue)/:id/audit") { request, context in
                let caller = try await authenticate(request)
                let id = context.parameters.get("id") ?? ""
                return try await entity(kind, id: id, request: request, caller: caller, audit: true)
            }
        }
    }

    /// The view a caller gets of a tenant's administrative state, or nil when none of its actors may read it.
    static func administrativeView(_ caller: Caller, tenant: Tenant, audit: Bool) -> PartnerView? {
        for actor in caller.actors {
            switch actor {
            case .systemAdmin: return PartnerView(reader: actor, privacy: tenant.dataPrivacy)
            case .partnerAdmin(let partner) where tenant.partner == partner:
                return PartnerView(reader: actor, privacy: tenant.dataPrivacy)
            case .tenantAdmin(let id) where id == tenant.id:
                return PartnerView(reader: actor, privacy: tenant.dataPrivacy)
            case .ouAdmin(let id, _) where id == tenant.id:
                return PartnerView(reader: actor, privacy: tenant.dataPrivacy)
            default: continue
            }
        }
        if audit && caller.isAuditor && caller.tenant == tenant.id {
            return PartnerView(reader: .tenantAdmin(tenant.id), privacy: tenant.dataPrivacy)
        }
        return nil
    }

    static func readForbidden(_ caller: Caller) -> Problem {
        let rule = "systemAdmin, partnerAdmin of the tenant's partner, tenantAdmin or ouAdmin of the tenant"
        return Problem.forbidden(
            action: "readState", rule: rule,
            detail: "permission denied: \(caller.actorList) may not read this (rule: \(rule))")
    }

    /// The as-of point of `?asOf=` (a log position or an ISO 8601 time).
    static func asOf(_ request: Request) throws(Problem) -> AsOf? {
        guard let text = request.uri.queryParameters.get("asOf") else { return nil }
        if let position = UInt64(text) { return .position(GlobalPosition(position)) }
        if let time = Timestamp(iso8601: text) { return .recordedAt(time) }
        throw Problem.badParameter("asOf", "asOf must be a log position (a number) or an ISO 8601 time")
    }

    /// The as-of point of `?asOf=` (a log position or an ISO 8601 time); a position past the end of the log is
    /// refused: the log has never stood there, and the view as of it would change as the log grows.
    /// - Throws: `Problem` 400 (`bad-parameter`, field `asOf`), 503 when the end of the log cannot be read.
    func asOf(_ request: Request) async throws(Problem) -> AsOf? {
        guard let asOf = try Self.asOf(request) else { return nil }
        guard case .position(let position) = asOf else { return asOf }
        let head: GlobalPosition
        do { head = try await store.lastPosition() } catch { throw Self.storageProblem() }
        guard let past = GlobalPosition.pastTheEnd(position.rawValue, head: head, named: "asOf") else { return asOf }
        throw Problem.badParameter(
            "asOf",
            past + ": the log has not stood there, and a view as of it would change as the log grows; ask with a "
                + "position up to \(head.rawValue), or a time")
    }

    /// Runs `body` on the live projections, or on projections built as of `asOf`.
    func withProjections<T: Sendable>(
        asOf: AsOf?, _ body: @Sendable (CurrentStateProjection, AuditProjection) throws(Problem) -> T
    ) async throws(Problem) -> T {
        guard let asOf else {
            return try await readSide.read { (set) throws(Problem) -> T in
                try body(
                    set.projection(CurrentStateProjection.self) ?? CurrentStateProjection(),
                    set.projection(AuditProjection.self) ?? AuditProjection())
            }
        }
        var set = ProjectionSet([CurrentStateProjection(), AuditProjection()])
        do {
            _ = try await ProjectionCatchUp.run(&set, from: store, asOf: asOf)
        } catch {
            throw Problem(
                .serviceUnavailable, kind: "storage", title: "Storage unavailable",
                detail: "the view as of \(asOf) could not be built")
        }
        return try body(
            set.projection(CurrentStateProjection.self) ?? CurrentStateProjection(),
            set.projection(AuditProjection.self) ?? AuditProjection())
    }

    private func entity(
        _ kind: EntityKind, id: String, request: Request, caller: Caller, audit: Bool
    )
        async throws(Problem) -> Response
    {
        let asOf = try await asOf(request)
        let notFound = Problem.notFound(
            "no \(kind.rawValue.dropLast()) with id '\(id)'" + (asOf.map { " as of \($0)" } ?? ""))
        let text = try await withProjections(asOf: asOf) { (current, auditLog) throws(Problem) -> String in
            let tenant: Tenant?
            let entity: AuditedEntity
            let document: (StateJSON) -> JSONNode
            switch kind {
            case .tenants:
                guard let id = TenantID(string: id), let found = current.tenants[id] else { throw notFound }
                tenant = found
                entity = .tenant(id)
                document = { $0.tenant(found) }
            case .ous:
                guard let id = OUID(string: id), let found = current.organisationUnits[id] else { throw notFound }
                tenant = current.tenants[found.tenant]
                entity = .organisationUnit(id)
                document = { $0.organisationUnit(found) }
            case .services:
                guard let id = ServiceID(string: id), let found = current.services[id] else { throw notFound }
                tenant = current.tenants[found.tenant]
                entity = .service(id)
                document = { $0.service(found) }
            case .users:
                guard let id = UserID(string: id), let found = current.users[id] else { throw notFound }
                tenant = current.tenants[found.tenant]
                entity = .user(id)
                document = { $0.user(found) }
            }
            guard let tenant else { throw notFound }
            guard let view = Self.administrativeView(caller, tenant: tenant, audit: audit) else {
                throw Self.readForbidden(caller)
            }
            if audit { return ReportTable.audit(auditLog.entries(for: entity)).json() }
            return document(StateJSON(partnerView: view, current: current)).rendered()
        }
        return Self.json(.ok, text + "\n")
    }

    private func list(_ kind: EntityKind, request: Request, caller: Caller) async throws(Problem) -> Response {
        let parameters = request.uri.queryParameters
        // Free text, as a form or `URLSearchParams` sends it: `name=Anna+Costa` looks for "anna costa".
        let name = QueryString.formValue(named: "name", in: request.uri.query ?? "")?.lowercased()
        let limit = try Self.integer(parameters.get("limit"), name: "limit", default: 100, range: 1...1000)
        let offset = try Self.integer(parameters.get("offset"), name: "offset", default: 0, range: 0...Int.max)
        var tenantFilter: TenantID?
        if let text = parameters.get("tenant") {
            guard let id = TenantID(string: text) else { throw Problem.badParameter("tenant", "tenant must be a UUID") }
            tenantFilter = id
        }
        let filter = tenantFilter
        let text = try await withProjections(asOf: nil) { (current, _) throws(Problem) -> String in
            var items: [(name: String, json: String)] = []
            func visible(_ tenantID: TenantID) -> PartnerView? {
                guard filter == nil || filter == tenantID, let tenant = current.tenants[tenantID] else { return nil }
                return Self.administrativeView(caller, tenant: tenant, audit: false)
            }
            func add(_ id: String, _ shownName: String, _ extra: String) {
                guard name.map({ shownName.lowercased().contains($0) }) ?? true else { return }
                items.append((shownName, "{\"id\":\"\(id)\",\"name\":" + jsonQuoted(shownName) + extra + "}"))
            }
            switch kind {
            case .tenants:
                for tenant in current.tenants.values where visible(tenant.id) != nil {
                    add(tenant.id.description, tenant.name, ",\"state\":\"\(tenant.state)\"")
                }
            case .ous:
                for ou in current.organisationUnits.values where visible(ou.tenant) != nil {
                    add(ou.id.description, ou.name, ",\"tenant\":\"\(ou.tenant)\"")
                }
            case .services:
                for service in current.services.values where visible(service.tenant) != nil {
                    add(service.id.description, service.name, ",\"tenant\":\"\(service.tenant)\"")
                }
            case .users:
                for user in current.users.values {
                    guard let view = visible(user.tenant) else { continue }
                    add(
                        user.id.description, view.userIdentifier(user.displayName.value),
                        ",\"tenant\":\"\(user.tenant)\",\"upn\":" + jsonQuoted(view.userIdentifier(user.upn.value)))
                }
            }
            items.sort { ($0.name, $0.json) < ($1.name, $1.json) }
            let page = items.dropFirst(offset).prefix(limit)
            let next = offset + page.count < items.count ? String(offset + page.count) : "null"
            return "{\"items\":[" + page.map(\.json).joined(separator: ",") + "],\"total\":\(items.count),"
                + "\"offset\":\(offset),\"limit\":\(limit),\"nextOffset\":\(next)}"
        }
        return Self.json(.ok, text + "\n")
    }

    static func integer(
        _ text: String?, name: String, default value: Int, range: ClosedRange<Int>
    ) throws(Problem)
        -> Int
    {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw Problem.badParameter(
                name, "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}
