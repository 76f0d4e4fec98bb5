import CumulusDomain
import Foundation

/// Flattens an entity of the current state into `(field, value)` pairs, so the audit can diff before and after.
///
/// Secrets go through `Secret`'s own description, which is masked; nothing here reads their clear text.
enum AuditedFields {
    static func fields(of entity: AuditedEntity, in model: CurrentStateProjection) -> [(String, String)] {
        switch entity {
        case .tenant(let id):
            guard let tenant = model.tenants[id] else { return [] }
            return tenantFields(tenant) + contingentFields(model.licencePools[id])
        case .organisationUnit(let id):
            guard let ou = model.organisationUnits[id] else { return [] }
            // Contents are not flattened: listing every user of a large OU in every entry would make the audit
            // quadratic in the OU's size. Content changes are recorded one by one (see `contentChange`).
            return [("name", ou.name), ("parent", text(ou.parent)), ("lifecycle", ou.lifecycle.rawValue)]
        case .service(let id):
            guard let service = model.services[id] else { return [] }
            return [
                ("name", service.name), ("ou", service.ou.description), ("type", service.type.rawValue),
                ("source", service.source.rawValue),
                ("distribution.deliverWhileBusy", text(service.distribution.deliverWhileBusy)),
                ("distribution.deliverWhileInMeeting", text(service.distribution.deliverWhileInMeeting)),
                ("distribution.deliverWhileAway", text(service.distribution.deliverWhileAway)),
                ("lifecycle", service.lifecycle.rawValue), ("licences", kindsText(model.licences(of: id))),
            ]
        case .user(let id):
            guard let user = model.users[id] else { return [] }
            let memberships = user.memberships.map { "\($0.key):\($0.value.rawValue)" }.sorted()
            return [
                ("upn", user.upn.value), ("displayName", user.displayName.value), ("ou", user.ou.description),
                ("lifecycle", user.lifecycle.rawValue), ("memberships", memberships.joined(separator: ", ")),
                ("licences", kindsText(model.licences(of: id))),
            ]
        }
    }

    private static func tenantFields(_ t: Tenant) -> [(String, String)] {
        let details = t.companyDetails
        let contact = t.technicalContact
        return [
            ("name", t.name), ("o365Domain", t.o365Domain.value), ("azureTenantID", text(t.azureTenantID)),
            ("partner", text(t.partner)), ("state", t.state.rawValue), ("lifecycle", t.lifecycle.rawValue),
            ("defaultOU", t.defaultOU.description),
            ("securityGroups.partnerAdminGroup", text(t.securityGroups.partnerAdminGroup)),
            ("securityGroups.tenantAdminGroup", text(t.securityGroups.tenantAdminGroup)),
            ("companyDetails.companyName", details.companyName), ("companyDetails.crmID", details.crmID),
            ("companyDetails.billingAddress.street1", details.billingAddress.street1),
            ("companyDetails.billingAddress.street2", details.billingAddress.street2),
            ("companyDetails.billingAddress.zip", details.billingAddress.zip),
            ("companyDetails.billingAddress.city", details.billingAddress.city),
            ("companyDetails.billingAddress.country", details.billingAddress.country?.code ?? ""),
            ("technicalContact.name", contact?.name.value ?? ""),
            ("technicalContact.email", contact?.email?.value.value ?? ""),
            ("technicalContact.phone", contact?.phone?.value.value ?? ""),
            ("technicalContact.sipAddress", contact?.sipAddress?.value.value ?? ""),
            ("dataPrivacy.allowPartnerSeeUserIdentifiers", text(t.dataPrivacy.allowPartnerSeeUserIdentifiers)),
            ("dataPrivacy.allowPartnerSeeCustomerIdentifiers", text(t.dataPrivacy.allowPartnerSeeCustomerIdentifiers)),
            ("dataPrivacy.persistUserStatesInReporting", text(t.dataPrivacy.persistUserStatesInReporting)),
            ("dataPrivacy.showTimeInState", text(t.dataPrivacy.showTimeInState)),
            ("provisioning.serviceProvisioningViaTeams", t.provisioning.serviceProvisioningViaTeams.rawValue),
            ("provisioning.defaultTeamOwnerRole", t.provisioning.defaultTeamOwnerRole.rawValue),
            ("outbound.maxScheduledTasksPerService", String(t.outbound.maxScheduledTasksPerService)),
            ("interact.enabled", text(t.interact.enabled)),
            ("interact.acsConnectionString", text(t.interact.acsConnectionString)),
            ("interact.o365UserID", text(t.interact.o365UserID)),
            ("interact.widgetKey", text(t.widgetKey)),
            ("interact.sessionRecoveryTimeoutSeconds", String(t.interact.sessionRecoveryTimeoutSeconds)),
            ("interact.authorization", t.interact.authorization.rawValue),
            ("assistant.useOwnACS", text(t.assistant.useOwnACS)),
            ("assistant.acsConnectionString", text(t.assistant.acsConnectionString)),
            ("attendantConsole.graphFilter", t.attendantConsole.graphFilter),
            ("attendantConsole.teamVisibility", t.attendantConsole.teamVisibility.rawValue),
            ("presenceTracking.enabled", text(t.presenceTracking.enabled)),
            ("presenceTracking.account1", t.presenceTracking.account1?.value ?? ""),
            ("presenceTracking.account2", t.presenceTracking.account2?.value ?? ""),
            ("presenceTracking.permissionGranted", text(t.presenceTrackingPermissionGranted)),
            ("instantMessaging.enabled", text(t.instantMessaging.enabled)),
            ("instantMessaging.maxConcurrentPerService", String(t.instantMessaging.maxConcurrentPerService)),
            ("instantMessaging.useOwnACS", text(t.instantMessaging.useOwnACS)),
            ("instantMessaging.acsConnectionString", text(t.instantMessaging.acsConnectionString)),
            ("instantMessaging.acsResourceID", t.instantMessaging.acsResourceID ?? ""),
            ("externalTask.maxConcurrentPerService", String(t.externalTask.maxConcurrentPerService)),
            ("email.maxConcurrent", String(t.email.maxConcurrent)),
            ("timeZone", t.timeZone),
            ("pendingScriptItems", t.pendingScriptItems.map(\.description).joined(separator: ", ")),
            (
                "roleAssignments",
                t.roleAssignments.map { assignment in
                    "\(assignment.principal.uuidString.lowercased()) \(assignment.role)"
                        + (assignment.ou.map { " of \($0)" } ?? "")
                }.joined(separator: ", ")
            ),
        ]
    }

    private static func contingentFields(_ pool: LicencePool?) -> [(String, String)] {
        guard let pool else { return [] }
        return LicenceKind.allCases.filter { pool.contingents[$0] != nil }.map {
            ("licences.\($0.rawValue).contingent", String(pool.contingent($0)))
        }
    }

    /// The field change of an OU content event: one sub-OU, service or user added or removed.
    static func contentChange(of event: DomainEvent) -> FieldChange? {
        switch event {
        case .ouContentAdded(let e): FieldChange(field: "contents", old: nil, new: contentText(e.content))
        case .ouContentRemoved(let e): FieldChange(field: "contents", old: contentText(e.content), new: nil)
        // The profile also changes with every user-state change of the feed, which the audit does not fold (it
        // would make the audit proportional to the feed): the entry names the new profile, the report the old.
        case .responsibilityProfileChanged(let e):
            FieldChange(field: "responsibilityProfile", old: nil, new: e.responsibilityProfile ?? "")
        default: nil
        }
    }

    private static func contentText(_ content: OUContent) -> String {
        switch content {
        case .subOU(let id): "ou \(id)"
        case .service(let id): "service \(id)"
        case .user(let id): "user \(id)"
        }
    }

    private static func kindsText(_ kinds: Set<LicenceKind>) -> String {
        LicenceKind.allCases.filter { kinds.contains($0) }.map(\.rawValue).joined(separator: ", ")
    }

    private static func text(_ value: Bool) -> String { value ? "true" : "false" }

    /// Any optional value through its description; `Secret`'s description is its masked form.
    private static func text(_ value: (some CustomStringConvertible)?) -> String { value.map { "\($0)" } ?? "" }

    private static func text(_ value: Foundation.UUID?) -> String { value?.uuidString.lowercased() ?? "" }

    /// The field-level differences between two flattened states, in the order of `after` then removed fields.
    ///
    /// The flattened fields of an entity come in a fixed order, so `before` and `after` usually name the same
    /// fields at the same places (field names are unique within one entity): then they are compared place by
    /// place, which gives the same changes without hashing every name.
    static func diff(_ before: [(String, String)], _ after: [(String, String)]) -> [FieldChange] {
        if before.isEmpty { return after.map { FieldChange(field: $0.0, old: nil, new: $0.1) } }
        if before.count == after.count && before.indices.allSatisfy({ before[$0].0 == after[$0].0 }) {
            var changes: [FieldChange] = []
            for index in after.indices where before[index].1 != after[index].1 {
                changes.append(FieldChange(field: after[index].0, old: before[index].1, new: after[index].1))
            }
            return changes
        }
        var old: [String: String] = [:]
        for (field, value) in before { old[field] = value }
        var changes: [FieldChange] = []
        var seen = Set<String>()
        for (field, value) in after {
            seen.insert(field)
            let previous = old[field]
            if previous != value { changes.append(FieldChange(field: field, old: previous, new: value)) }
        }
        for (field, value) in before where !seen.contains(field) {
            changes.append(FieldChange(field: field, old: value, new: nil))
        }
        return changes
    }
}
