import CumulusLog
import Foundation

/// Parses JSON Lines of commands (the `cumulus import` format, documented in `docs/domain.md`, "Import (JSON Lines)", and the README).
///
/// One command per line:
/// `{"command":"createTenant","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","eventId":"…", …fields}`.
/// A malformed line is refused with its line number and reason, never a crash. The ids a line leaves out
/// (its event id, new entities) are derived from the line; only widget keys left out are generated.
public enum CommandImport {
    /// Parses a whole file; blank lines are skipped, every other line gives a request or a refusal.
    public static func parse(lines text: String) -> [(line: Int, result: Result<CommandRequest, ImportLineRefusal>)] {
        parse(bytes: Array(text.utf8))
    }

    /// Parses a whole input given as bytes: each line's UTF-8 is checked first, and a line holding a byte that is
    /// not UTF-8 is refused with its offset (never decoded with U+FFFD, which would turn distinct names into one).
    public static func parse(bytes: [UInt8]) -> [(line: Int, result: Result<CommandRequest, ImportLineRefusal>)] {
        var results: [(line: Int, result: Result<CommandRequest, ImportLineRefusal>)] = []
        var occurrences = LineDerivedID.Occurrences()
        for line in JSONLines.split(bytes) {
            switch line.text {
            case .failure(let invalid):
                results.append(
                    (
                        line.number,
                        .failure(
                            ImportLineRefusal(
                                line: line.number,
                                reason: "invalid UTF-8 at byte offset \(invalid.byteOffset) of the line"))
                    ))
            case .success(let text):
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !trimmed.isEmpty else { continue }
                do throws(ImportLineRefusal) {
                    let occurrence = occurrences.next(trimmed)
                    results.append(
                        (line.number, .success(try parse(line: trimmed, number: line.number, occurrence: occurrence))))
                } catch {
                    results.append((line.number, .failure(error)))
                }
            }
        }
        return results
    }

    /// Parses one line.
    ///
    /// The ids a line leaves out — its `eventId`, and the ids of the entities it creates (tenant, root OU,
    /// OU, service, user) — are derived from the line (`LineDerivedID`, labelled with the field name;
    /// `occurrence` says which copy of this exact line in the input it is), so importing the same input again
    /// stores nothing twice. A widget key left out stays random: it is a credential, and a value derived from
    /// the line could be guessed (a retry is still recognised by the derived event id).
    /// - Throws: ``ImportLineRefusal`` naming the line and the problem (malformed JSON, unknown command,
    ///   missing field, field of the wrong type or value).
    public static func parse(
        line: String, number: Int, occurrence: Int = 1
    ) throws(ImportLineRefusal) -> CommandRequest {
        try parse(line: line, number: number, occurrence: occurrence, actor: nil)
    }

    /// Parses one line whose actor is given by the caller (the server's signed-in caller), not by the line;
    /// a line that names an `actor` is refused.
    /// - Throws: ``ImportLineRefusal`` as ``parse(line:number:occurrence:)`` does.
    public static func parse(
        line: String, number: Int, occurrence: Int = 1, actor: Actor
    ) throws(ImportLineRefusal) -> CommandRequest {
        try parse(line: line, number: number, occurrence: occurrence, actor: .some(actor))
    }

    private static func parse(
        line: String, number: Int, occurrence: Int, actor given: Actor?
    ) throws(ImportLineRefusal)
        -> CommandRequest
    {
        let refusal = { (reason: String) in ImportLineRefusal(line: number, reason: reason) }
        if let offset = JSONLines.offsetNestingDeeper(in: line) {
            throw refusal("nested too deep (limit \(JSONLines.nestingLimit)) at byte offset \(offset)")
        }
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
        } catch {
            // Where the text stops being JSON, when the syntax check finds it (Foundation's error does not say).
            guard let failure = JSONSyntax.firstError(in: line) else { throw refusal("malformed JSON") }
            throw refusal("malformed JSON: \(failure.reason) at column \(failure.column)")
        }
        guard case .object(let object) = root else {
            throw refusal("a line must be a JSON object, not \(root.typeName)")
        }
        let fields = ImportFields(fields: object, line: number, prefix: "")
        let name = try fields.string("command")
        let actor: Actor
        if let given {
            guard object["actor"] == nil else {
                throw refusal("field `actor` is not allowed: the actor is the signed-in caller")
            }
            actor = given
        } else {
            let actorText = try fields.string("actor")
            guard let parsed = Actor(canonical: actorText) else {
                throw refusal(
                    "field `actor` is not an actor (e.g. `systemAdmin`, `tenantAdmin:<uuid>`, `ouAdmin:<tenant>/<ou>`)")
            }
            actor = parsed
        }
        let occurredText = try fields.string("occurredAt")
        let occurredAt: Int64
        do { occurredAt = try Timestamp.parse(iso8601: occurredText).microsecondsSinceEpoch } catch {
            throw refusal("field `occurredAt`: \(error.reason)")
        }
        let bytes = Array(line.utf8)
        let time = Timestamp(microsecondsSinceEpoch: occurredAt)
        let newID = { (field: String) in
            LineDerivedID.uuid(line: bytes, occurrence: occurrence, label: field, occurredAt: time)
        }
        let eventID = try fields.optionalUUID("eventId") ?? newID("eventId")
        guard let command = try command(named: name, fields, newID) else {
            throw refusal("unknown command `\(VisibleText.escaped(name))`")
        }
        if let unknown = fields.unreadField() {
            throw refusal("field `\(VisibleText.escaped(unknown))` is not a field of `\(name)`")
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
        "recordPresence", "assignRole", "revokeRole", "renameUser", "changeUserPrincipalName", "moveUser",
        "changeResponsibilityProfile",
    ]

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private static func command(
        named name: String, _ f: ImportFields, _ newID: (String) -> UUID
    ) throws(ImportLineRefusal) -> Command? {
        switch name {
        case "createTenant":
            return .createTenant(
                tenant: try f.optionalID("tenant") ?? TenantID(newID("tenant")), name: try f.string("name"),
                o365Domain: try f.string("o365Domain"), azureTenantID: try f.string("azureTenantId"),
                partner: try f.optionalID("partner"), rootOU: try f.optionalID("rootOU") ?? OUID(newID("rootOU")),
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
                tenant: try f.id("tenant"), ou: try f.optionalID("ou") ?? OUID(newID("ou")), parent: try f.id("parent"),
                name: try f.string("name"))
        case "renameOU": return .renameOU(ou: try f.id("ou"), name: try f.string("name"))
        case "moveOU": return .moveOU(ou: try f.id("ou"), newParent: try f.id("newParent"))
        case "deleteOU": return .deleteOU(ou: try f.id("ou"))
        case "provisionService":
            return .provisionService(
                tenant: try f.id("tenant"), service: try f.optionalID("service") ?? ServiceID(newID("service")),
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
                tenant: try f.id("tenant"), user: try f.optionalID("user") ?? UserID(newID("user")),
                upn: try f.string("upn"),
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
        case "assignRole", "revokeRole":
            let tenant: TenantID = try f.id("tenant")
            let principal = try f.uuid("principal")
            let role: AssignableRole = try f.enumeration("role")
            let ou: OUID? = try f.optionalID("ou")
            return name == "assignRole"
                ? .assignRole(tenant: tenant, principal: principal, role: role, ou: ou)
                : .revokeRole(tenant: tenant, principal: principal, role: role, ou: ou)
        case "renameUser": return .renameUser(user: try f.id("user"), displayName: try f.string("displayName"))
        case "changeUserPrincipalName":
            return .changeUserPrincipalName(user: try f.id("user"), upn: try f.string("upn"))
        case "moveUser": return .moveUser(user: try f.id("user"), ou: try f.id("ou"))
        case "changeResponsibilityProfile":
            return .changeResponsibilityProfile(
                user: try f.id("user"), responsibilityProfile: try f.optionalString("responsibilityProfile"))
        default:
            return nil
        }
    }
}
