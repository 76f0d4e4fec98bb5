public import CumulusDomain
import CumulusLog
import Foundation

/// A JSON value with its keys in the order written: the state documents of `cumulus state` and the server's
/// `GET /v1/{tenants,ous,services,users}/{id}`, encoded with explicit keys.
public indirect enum JSONNode: Sendable {
    /// An object: its fields in order.
    case object([(String, JSONNode)])
    /// An array.
    case array([JSONNode])
    /// A string.
    case string(String)
    /// An integer.
    case number(Int)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// A string, or `null` for `nil`.
    public static func text(_ value: String?) -> JSONNode { value.map(JSONNode.string) ?? .null }

    /// Indented JSON, two spaces per level.
    public func rendered(indent: Int = 0) -> String {
        var text = ""
        text.reserveCapacity(2048)
        write(into: &text, indent: indent)
        return text
    }

    private static func newline(_ text: inout String, indent: Int) {
        text += "\n"
        for _ in 0..<indent { text += "  " }
    }

    private func write(into text: inout String, indent: Int) {
        switch self {
        case .object(let fields):
            guard !fields.isEmpty else {
                text += "{}"
                return
            }
            text += "{"
            for (index, (key, value)) in fields.enumerated() {
                if index > 0 { text += "," }
                Self.newline(&text, indent: indent + 1)
                JSONText.appendQuoted(key, to: &text)
                text += ": "
                value.write(into: &text, indent: indent + 1)
            }
            Self.newline(&text, indent: indent)
            text += "}"
        case .array(let items):
            guard !items.isEmpty else {
                text += "[]"
                return
            }
            text += "["
            for (index, item) in items.enumerated() {
                if index > 0 { text += "," }
                Self.newline(&text, indent: indent + 1)
                item.write(into: &text, indent: indent + 1)
            }
            Self.newline(&text, indent: indent)
            text += "]"
        case .string(let value): JSONText.appendQuoted(value, to: &text)
        case .number(let value): text += String(value)
        case .bool(let value): text += value ? "true" : "false"
        case .null: text += "null"
        }
    }
}

/// The state of a tenant, OU, service or user as JSON with explicit keys: the import format's field names
/// (`azureTenantId`, `crmId`, `useOwnAcs`), secrets masked, personal data in clear or as `*` placeholders
/// through the partner view. `cumulus state` and the server's state routes print the same documents.
public struct StateJSON: Sendable {
    let partnerView: PartnerView
    let current: CurrentStateProjection

    /// Documents for a reader who sees through `partnerView`, with names resolved from `current`.
    public init(partnerView: PartnerView, current: CurrentStateProjection) {
        self.partnerView = partnerView
        self.current = current
    }

    private func id(_ value: some EntityIdentifier) -> JSONNode { .string(value.description) }
    private func uuid(_ value: UUID?) -> JSONNode { .text(value?.uuidString.lowercased()) }
    private func secret(_ value: Secret?) -> JSONNode { .text(value?.description) }
    private func person(_ value: String?) -> JSONNode { .text(value.map(partnerView.userIdentifier)) }
    private func customer(_ value: String) -> JSONNode { .string(partnerView.customerIdentifier(value)) }
    /// The tenant's technical contact: shown only to the readers docs/domain.md, "Who sees personal data", names.
    private func contactField(_ value: String?) -> JSONNode { .text(value.map(partnerView.technicalContact)) }
    private func ouName(_ ou: OUID) -> JSONNode { .text(current.organisationUnits[ou]?.name) }

    /// A tenant with its settings and what hangs off it.
    public func tenant(_ tenant: Tenant) -> JSONNode {
        let company = tenant.companyDetails
        let address = company.billingAddress
        let contact = tenant.technicalContact
        return .object([
            ("tenant", id(tenant.id)), ("name", .string(tenant.name)), ("o365Domain", .string(tenant.o365Domain.value)),
            ("azureTenantId", uuid(tenant.azureTenantID)), ("partner", .text(tenant.partner?.description)),
            ("rootOU", id(tenant.rootOU)), ("defaultOU", id(tenant.defaultOU)),
            ("state", .string(tenant.state.rawValue)),
            ("lifecycle", .string(tenant.lifecycle.rawValue)), ("timeZone", .string(tenant.timeZone)),
            (
                "securityGroups",
                .object([
                    ("partnerAdminGroup", uuid(tenant.securityGroups.partnerAdminGroup)),
                    ("tenantAdminGroup", uuid(tenant.securityGroups.tenantAdminGroup)),
                ])
            ),
            ("companyName", customer(company.companyName)), ("crmId", customer(company.crmID)),
            (
                "billingAddress",
                .object([
                    ("street1", .string(address.street1)), ("street2", .string(address.street2)),
                    ("zip", .string(address.zip)), ("city", .string(address.city)),
                    ("country", .text(address.country?.code)),
                ])
            ),
            (
                "technicalContact",
                contact.map { contact in
                    .object([
                        ("name", contactField(contact.name.value)),
                        ("email", contactField(contact.email?.value.description)),
                        ("phone", contactField(contact.phone?.value.description)),
                        ("sipAddress", contactField(contact.sipAddress?.value.description)),
                    ])
                } ?? .null
            ),
            (
                "dataPrivacy",
                .object([
                    ("allowPartnerSeeUserIdentifiers", .bool(tenant.dataPrivacy.allowPartnerSeeUserIdentifiers)),
                    (
                        "allowPartnerSeeCustomerIdentifiers",
                        .bool(tenant.dataPrivacy.allowPartnerSeeCustomerIdentifiers)
                    ),
                    ("persistUserStatesInReporting", .bool(tenant.dataPrivacy.persistUserStatesInReporting)),
                    ("showTimeInState", .bool(tenant.dataPrivacy.showTimeInState)),
                ])
            ),
            (
                "provisioning",
                .object([
                    ("serviceProvisioningViaTeams", .string(tenant.provisioning.serviceProvisioningViaTeams.rawValue)),
                    ("defaultTeamOwnerRole", .string(tenant.provisioning.defaultTeamOwnerRole.rawValue)),
                ])
            ),
            (
                "outbound",
                .object([("maxScheduledTasksPerService", .number(tenant.outbound.maxScheduledTasksPerService))])
            ),
            (
                "interact",
                .object([
                    ("enabled", .bool(tenant.interact.enabled)),
                    ("acsConnectionString", secret(tenant.interact.acsConnectionString)),
                    ("o365UserId", uuid(tenant.interact.o365UserID)),
                    ("sessionRecoveryTimeoutSeconds", .number(tenant.interact.sessionRecoveryTimeoutSeconds)),
                    ("authorization", .string(tenant.interact.authorization.rawValue)),
                ])
            ),
            ("widgetKey", uuid(tenant.widgetKey)),
            (
                "assistant",
                .object([
                    ("useOwnAcs", .bool(tenant.assistant.useOwnACS)),
                    ("acsConnectionString", secret(tenant.assistant.acsConnectionString)),
                ])
            ),
            (
                "attendantConsole",
                .object([
                    ("graphFilter", .string(tenant.attendantConsole.graphFilter)),
                    ("teamVisibility", .string(tenant.attendantConsole.teamVisibility.rawValue)),
                ])
            ),
            (
                "presenceTracking",
                .object([
                    ("enabled", .bool(tenant.presenceTracking.enabled)),
                    ("account1", .text(tenant.presenceTracking.account1?.description)),
                    ("account2", .text(tenant.presenceTracking.account2?.description)),
                    ("permissionGranted", .bool(tenant.presenceTrackingPermissionGranted)),
                ])
            ),
            (
                "instantMessaging",
                .object([
                    ("enabled", .bool(tenant.instantMessaging.enabled)),
                    ("maxConcurrentPerService", .number(tenant.instantMessaging.maxConcurrentPerService)),
                    ("useOwnAcs", .bool(tenant.instantMessaging.useOwnACS)),
                    ("acsConnectionString", secret(tenant.instantMessaging.acsConnectionString)),
                    ("acsResourceId", .text(tenant.instantMessaging.acsResourceID)),
                ])
            ),
            (
                "externalTask",
                .object([("maxConcurrentPerService", .number(tenant.externalTask.maxConcurrentPerService))])
            ),
            ("email", .object([("maxConcurrent", .number(tenant.email.maxConcurrent))])),
            ("pendingScriptItems", .array(tenant.pendingScriptItems.map { .string("\($0)") })),
            (
                "roleAssignments",
                .array(
                    tenant.roleAssignments.map { assignment in
                        .object([
                            ("principal", uuid(assignment.principal)), ("role", .string(assignment.role.rawValue)),
                            ("ou", .text(assignment.ou?.description)),
                        ])
                    })
            ),
            (
                "organisationUnits",
                .array(
                    current.organisationUnits(in: tenant.id).map {
                        .object([("ou", id($0.id)), ("name", .string($0.name))])
                    })
            ),
            ("services", .number(current.services(in: tenant.id).count)),
            ("users", .number(current.users(in: tenant.id).count)),
        ])
    }

    /// An OU with its sub-OUs, services and users by name (user names through the partner view).
    public func organisationUnit(_ unit: OrganisationUnit) -> JSONNode {
        var subUnits: [JSONNode] = []
        var services: [JSONNode] = []
        var users: [(String, JSONNode)] = []
        for content in unit.contents.sorted() {
            switch content {
            case .subOU(let ou): subUnits.append(.object([("ou", id(ou)), ("name", ouName(ou))]))
            case .service(let service):
                services.append(.object([("service", id(service)), ("name", .text(current.services[service]?.name))]))
            case .user(let user):
                let record = current.users[user]
                let name = record?.displayName.value ?? ""
                users.append(
                    (
                        name,
                        .object([
                            ("user", id(user)), ("displayName", person(record?.displayName.value)),
                            ("upn", person(record?.upn.value)),
                        ])
                    ))
            }
        }
        return .object([
            ("ou", id(unit.id)), ("tenant", id(unit.tenant)), ("name", .string(unit.name)),
            ("parent", .text(unit.parent?.description)), ("parentName", unit.parent.map(ouName) ?? .null),
            ("lifecycle", .string(unit.lifecycle.rawValue)), ("subOUs", .array(subUnits)),
            ("services", .array(services)),
            ("users", .array(users.sorted { $0.0 < $1.0 }.map(\.1))),
        ])
    }

    /// A service with its settings, members and how many are routable now.
    public func service(_ service: Service) -> JSONNode {
        .object([
            ("service", id(service.id)), ("tenant", id(service.tenant)), ("name", .string(service.name)),
            ("type", .string(service.type.rawValue)), ("ou", id(service.ou)), ("ouName", ouName(service.ou)),
            ("source", .string(service.source.rawValue)), ("lifecycle", .string(service.lifecycle.rawValue)),
            (
                "distribution",
                .object([
                    ("deliverWhileBusy", .bool(service.distribution.deliverWhileBusy)),
                    ("deliverWhileInMeeting", .bool(service.distribution.deliverWhileInMeeting)),
                    ("deliverWhileAway", .bool(service.distribution.deliverWhileAway)),
                ])
            ),
            ("members", .number(current.members(of: service.id).count)),
            ("routableNow", .number(current.routableCount(of: service.id))),
            ("licences", .array(current.licences(of: service.id).map(\.description).sorted().map(JSONNode.string))),
        ])
    }

    /// A user with memberships, licences and current state.
    public func user(_ user: User) -> JSONNode {
        .object([
            ("user", id(user.id)), ("tenant", id(user.tenant)), ("upn", person(user.upn.value)),
            ("displayName", person(user.displayName.value)), ("ou", id(user.ou)), ("ouName", ouName(user.ou)),
            ("lifecycle", .string(user.lifecycle.rawValue)),
            (
                "memberships",
                .array(
                    user.memberships.sorted { $0.key < $1.key }.map { service, role in
                        .object([
                            ("service", id(service)), ("name", .text(current.services[service]?.name)),
                            ("role", .string(role.rawValue)),
                        ])
                    })
            ),
            ("licences", .array(current.licences(of: user.id).map(\.description).sorted().map(JSONNode.string))),
            ("availability", .text(user.availability?.rawValue)), ("activity", .string(user.activity.rawValue)),
            ("userState", .text(user.userState?.description)),
            ("responsibilityProfile", .text(user.responsibilityProfile)),
        ])
    }
}
