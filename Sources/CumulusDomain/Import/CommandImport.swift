import CumulusLog
import Foundation

/// Parses JSON Lines of commands (the `cumulus import` format, documented in DESIGN.md).
///
/// One command per line:
/// `{"command":"createTenant","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","eventId":"…", …fields}`.
/// A malformed line is refused with its line number and reason, never a crash. Parsing is pure except
/// that ids the line leaves out (new entities, widget keys) are generated.
public enum CommandImport {
    /// Parses a whole file; blank lines are skipped, every other line gives a request or a refusal.
    public static func parse(lines text: String) -> [(line: Int, result: Result<CommandRequest, ImportLineRefusal>)] {
        var results: [(line: Int, result: Result<CommandRequest, ImportLineRefusal>)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            do throws(ImportLineRefusal) {
                results.append((index + 1, .success(try parse(line: trimmed, number: index + 1))))
            } catch {
                results.append((index + 1, .failure(error)))
            }
        }
        return results
    }

    /// Parses one line.
    /// - Throws: ``ImportLineRefusal`` naming the line and the problem (malformed JSON, unknown command,
    ///   missing field, field of the wrong type or value).
    public static func parse(line: String, number: Int) throws(ImportLineRefusal) -> CommandRequest {
        let refusal = { (reason: String) in ImportLineRefusal(line: number, reason: reason) }
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
        } catch {
            throw refusal("malformed JSON")
        }
        guard case .object(let object) = root else {
            throw refusal("a line must be a JSON object, not \(root.typeName)")
        }
        let fields = ImportFields(fields: object, line: number, prefix: "")
        let name = try fields.string("command")
        let actorText = try fields.string("actor")
        guard let actor = Actor(canonical: actorText) else {
            throw refusal(
                "field `actor` is not an actor (e.g. `systemAdmin`, `tenantAdmin:<uuid>`, `ouAdmin:<tenant>/<ou>`)")
        }
        let occurredText = try fields.string("occurredAt")
        guard let occurredAt = Timestamp(iso8601: occurredText)?.microsecondsSinceEpoch else {
            throw refusal("field `occurredAt` must be an ISO 8601 UTC timestamp like `2026-11-20T08:00:00Z`")
        }
        let eventID = try fields.optionalUUID("eventId")
        guard let command = try command(named: name, fields) else {
            throw refusal("unknown command `\(name)`")
        }
        return CommandRequest(command: command, actor: actor, occurredAt: occurredAt, eventID: eventID)
    }

    /// Every command name the import understands.
    public static let commandNames: [String] = [
        "createTenant", "renameTenant", "changeO365Domain", "changeAzureTenantId", "changeSecurityGroups",
        "changeCompanyDetails", "changeTechnicalContact", "assignPartner", "changeDataPrivacySettings",
        "changeProvisioningSettings", "setDefaultOU", "changeOutboundSettings", "changeInteractSettings",
        "refreshWidgetKey", "changeAssistantSettings", "changeAttendantConsoleSettings",
        "changePresenceTrackingSettings", "setPresenceTrackingPermission", "changeInstantMessagingSettings",
        "changeExternalTaskSettings", "changeEmailSettings", "changeTimeZone", "changeTenantState",
        "setLicenceContingent",
        "requestTenantDeletion", "recordProvisioningScriptRun", "createOU", "renameOU", "moveOU", "deleteOU",
        "provisionService", "renameService", "moveService", "changeServiceType", "changeDistributionSettings",
        "assignServiceLicence", "releaseServiceLicence", "requestServiceDeletion", "createUser", "removeUser",
        "assignMembership", "removeMembership", "assignUserLicence", "releaseUserLicence", "changeUserState",
        "recordPresence",
    ]

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private static func command(named name: String, _ f: ImportFields) throws(ImportLineRefusal) -> Command? {
        switch name {
        case "createTenant":
            return .createTenant(
                tenant: try f.optionalID("tenant") ?? TenantID(UUID()), name: try f.string("name"),
                o365Domain: try f.string("o365Domain"), azureTenantID: try f.string("azureTenantId"),
                partner: try f.optionalID("partner"), rootOU: try f.optionalID("rootOU") ?? OUID(UUID()),
                rootOUName: try f.optionalString("rootOUName") ?? "Root",
                widgetKey: try f.optionalUUID("widgetKey") ?? UUID())
        case "renameTenant": return .renameTenant(tenant: try f.id("tenant"), name: try f.string("name"))
        case "changeO365Domain":
            return .changeO365Domain(tenant: try f.id("tenant"), o365Domain: try f.string("o365Domain"))
        case "changeAzureTenantId":
            return .changeAzureTenantID(tenant: try f.id("tenant"), azureTenantID: try f.string("azureTenantId"))
        case "changeSecurityGroups":
            return .changeSecurityGroups(
                tenant: try f.id("tenant"), partnerAdminGroup: try f.optionalString("partnerAdminGroup"),
                tenantAdminGroup: try f.optionalString("tenantAdminGroup"))
        case "changeCompanyDetails":
            let address = try f.optionalObject("billingAddress")
            return .changeCompanyDetails(
                tenant: try f.id("tenant"), companyName: try f.optionalString("companyName") ?? "",
                crmID: try f.optionalString("crmId") ?? "",
                billingAddress: BillingAddressInput(
                    street1: try address?.optionalString("street1") ?? "",
                    street2: try address?.optionalString("street2") ?? "",
                    zip: try address?.optionalString("zip") ?? "", city: try address?.optionalString("city") ?? "",
                    country: try address?.optionalString("country")))
        case "changeTechnicalContact":
            let contact = try f.optionalObject("technicalContact")
            return .changeTechnicalContact(
                tenant: try f.id("tenant"),
                contact: try contact.map { (c) throws(ImportLineRefusal) in
                    TechnicalContactInput(
                        name: try c.string("name"), email: try c.optionalString("email"),
                        phone: try c.optionalString("phone"), sipAddress: try c.optionalString("sipAddress"))
                })
        case "assignPartner": return .assignPartner(tenant: try f.id("tenant"), partner: try f.optionalID("partner"))
        case "changeDataPrivacySettings":
            return .changeDataPrivacySettings(
                tenant: try f.id("tenant"),
                settings: DataPrivacySettings(
                    allowPartnerSeeUserIdentifiers: try f.bool("allowPartnerSeeUserIdentifiers", default: false),
                    allowPartnerSeeCustomerIdentifiers: try f.bool(
                        "allowPartnerSeeCustomerIdentifiers", default: false),
                    persistUserStatesInReporting: try f.bool("persistUserStatesInReporting", default: false),
                    showTimeInState: try f.bool("showTimeInState", default: false)))
        case "changeProvisioningSettings":
            return .changeProvisioningSettings(
                tenant: try f.id("tenant"),
                settings: ProvisioningSettings(
                    serviceProvisioningViaTeams: try f.enumeration("serviceProvisioningViaTeams", default: .everyone),
                    defaultTeamOwnerRole: try f.enumeration("defaultTeamOwnerRole", default: .teamOwner)))
        case "setDefaultOU": return .setDefaultOU(tenant: try f.id("tenant"), ou: try f.id("ou"))
        case "changeOutboundSettings":
            return .changeOutboundSettings(
                tenant: try f.id("tenant"), maxScheduledTasksPerService: try f.integer("maxScheduledTasksPerService"))
        case "changeInteractSettings":
            return .changeInteractSettings(
                tenant: try f.id("tenant"), enabled: try f.bool("enabled"),
                acsConnectionString: try f.optionalString("acsConnectionString"),
                o365UserID: try f.optionalString("o365UserId"),
                sessionRecoveryTimeoutSeconds: try f.integer("sessionRecoveryTimeoutSeconds", default: 20),
                authorization: try f.enumeration("authorization", default: InteractAuthorization.none))
        case "refreshWidgetKey":
            return .refreshWidgetKey(tenant: try f.id("tenant"), newKey: try f.optionalUUID("widgetKey") ?? UUID())
        case "changeAssistantSettings":
            return .changeAssistantSettings(
                tenant: try f.id("tenant"), useOwnACS: try f.bool("useOwnAcs"),
                acsConnectionString: try f.optionalString("acsConnectionString"))
        case "changeAttendantConsoleSettings":
            return .changeAttendantConsoleSettings(
                tenant: try f.id("tenant"), graphFilter: try f.optionalString("graphFilter") ?? "",
                teamVisibility: try f.enumeration("teamVisibility", default: .noMembers))
        case "changePresenceTrackingSettings":
            return .changePresenceTrackingSettings(
                tenant: try f.id("tenant"), enabled: try f.bool("enabled"), account1: try f.optionalString("account1"),
                account2: try f.optionalString("account2"))
        case "setPresenceTrackingPermission":
            return .setPresenceTrackingPermission(tenant: try f.id("tenant"), granted: try f.bool("granted"))
        case "changeInstantMessagingSettings":
            return .changeInstantMessagingSettings(
                tenant: try f.id("tenant"), enabled: try f.bool("enabled"),
                maxConcurrentPerService: try f.integer("maxConcurrentPerService", default: 20),
                useOwnACS: try f.bool("useOwnAcs", default: false),
                acsConnectionString: try f.optionalString("acsConnectionString"),
                acsResourceID: try f.optionalString("acsResourceId"))
        case "changeExternalTaskSettings":
            return .changeExternalTaskSettings(
                tenant: try f.id("tenant"), maxConcurrentPerService: try f.integer("maxConcurrentPerService"))
        case "changeEmailSettings":
            return .changeEmailSettings(tenant: try f.id("tenant"), maxConcurrent: try f.integer("maxConcurrent"))
        case "changeTimeZone":
            return .changeTimeZone(tenant: try f.id("tenant"), timeZone: try f.string("timeZone"))
        case "changeTenantState":
            return .changeTenantState(tenant: try f.id("tenant"), state: try f.enumeration("state"))
        case "setLicenceContingent":
            return .setLicenceContingent(
                tenant: try f.id("tenant"), kind: try f.enumeration("kind"), contingent: try f.integer("contingent"))
        case "requestTenantDeletion":
            return .requestTenantDeletion(tenant: try f.id("tenant"), confirmation: try f.string("confirmation"))
        case "recordProvisioningScriptRun":
            return .recordProvisioningScriptRun(
                tenant: try f.id("tenant"), succeeded: try f.bool("succeeded", default: true))
        case "createOU":
            return .createOU(
                tenant: try f.id("tenant"), ou: try f.optionalID("ou") ?? OUID(UUID()), parent: try f.id("parent"),
                name: try f.string("name"))
        case "renameOU": return .renameOU(ou: try f.id("ou"), name: try f.string("name"))
        case "moveOU": return .moveOU(ou: try f.id("ou"), newParent: try f.id("newParent"))
        case "deleteOU": return .deleteOU(ou: try f.id("ou"))
        case "provisionService":
            return .provisionService(
                tenant: try f.id("tenant"), service: try f.optionalID("service") ?? ServiceID(UUID()),
                name: try f.string("name"), type: try f.enumeration("type", default: .advancedRouting),
                ou: try f.optionalID("ou"), source: try f.enumeration("source", default: .backend),
                owner: try f.optionalID("owner"))
        case "renameService": return .renameService(service: try f.id("service"), name: try f.string("name"))
        case "moveService": return .moveService(service: try f.id("service"), ou: try f.id("ou"))
        case "changeServiceType":
            return .changeServiceType(service: try f.id("service"), type: try f.enumeration("type"))
        case "changeDistributionSettings":
            return .changeDistributionSettings(
                service: try f.id("service"),
                settings: DistributionSettings(
                    deliverWhileBusy: try f.bool("deliverWhileBusy", default: false),
                    deliverWhileInMeeting: try f.bool("deliverWhileInMeeting", default: false),
                    deliverWhileAway: try f.bool("deliverWhileAway", default: false)))
        case "assignServiceLicence":
            return .assignServiceLicence(service: try f.id("service"), kind: try f.enumeration("kind"))
        case "releaseServiceLicence":
            return .releaseServiceLicence(service: try f.id("service"), kind: try f.enumeration("kind"))
        case "requestServiceDeletion": return .requestServiceDeletion(service: try f.id("service"))
        case "createUser":
            return .createUser(
                tenant: try f.id("tenant"), user: try f.optionalID("user") ?? UserID(UUID()), upn: try f.string("upn"),
                displayName: try f.string("displayName"), ou: try f.optionalID("ou"))
        case "removeUser": return .removeUser(user: try f.id("user"))
        case "assignMembership":
            return .assignMembership(
                user: try f.id("user"), service: try f.id("service"),
                role: try f.enumeration("role", default: .teamMember))
        case "removeMembership": return .removeMembership(user: try f.id("user"), service: try f.id("service"))
        case "assignUserLicence": return .assignUserLicence(user: try f.id("user"), kind: try f.enumeration("kind"))
        case "releaseUserLicence": return .releaseUserLicence(user: try f.id("user"), kind: try f.enumeration("kind"))
        case "changeUserState":
            return .changeUserState(
                user: try f.id("user"), state: try f.string("state"),
                responsibilityProfile: try f.optionalString("responsibilityProfile"))
        case "recordPresence":
            return .recordPresence(
                user: try f.id("user"), availability: try f.enumeration("availability"),
                activity: try f.optionalEnumeration("activity"))
        default:
            return nil
        }
    }
}
