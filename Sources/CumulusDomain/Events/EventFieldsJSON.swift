public import CumulusLog
public import Foundation

/// A domain event's fields as one JSON object with explicit keys, for the `event` member of `cumulus read`,
/// `cumulus tail` and `GET /v1/events`: ids and enumerations as their stored text, secrets masked, personal data
/// replaced by `"<personal data>"`. Each payload struct writes its own fields by name (generated with the structs
/// by `Tools/scripts/generate_domain_events.py`), and each nested value its members, so the output does not
/// depend on how Swift describes a type.
package struct EventFieldsJSON {
    private(set) var text = "{"
    private var isFirst = true

    package init() {}

    /// Writes `"name":value`.
    package mutating func field(_ name: String, _ value: some EventFieldValue) {
        if !isFirst { text += "," }
        isFirst = false
        JSONText.appendQuoted(name, to: &text)
        text += ":"
        value.appendJSON(to: &text)
    }

    /// The object's text, closed.
    package var closed: String { text + "}" }

    /// `build`'s fields as an object, appended to `text`.
    static func appendObject(to text: inout String, _ build: (inout EventFieldsJSON) -> Void) {
        var object = EventFieldsJSON()
        build(&object)
        text += object.closed
    }
}

/// A value that can stand in an event's JSON rendering (``EventFieldsJSON``).
package protocol EventFieldValue {
    /// Appends the value as JSON.
    func appendJSON(to text: inout String)
}

/// A field value written as its description: the stored text of ids and names, the masked form of a secret or of
/// personal data.
package protocol DescribedEventFieldValue: EventFieldValue, CustomStringConvertible {}

extension DescribedEventFieldValue {
    /// The description as a JSON string.
    package func appendJSON(to text: inout String) { JSONText.appendQuoted(description, to: &text) }
}

/// A field value written as its stored name (the enumerations of the domain).
package protocol NamedEventFieldValue: EventFieldValue, RawRepresentable where RawValue == String {}

extension NamedEventFieldValue {
    /// The stored name as a JSON string.
    package func appendJSON(to text: inout String) { JSONText.appendQuoted(rawValue, to: &text) }
}

extension String: DescribedEventFieldValue {}
extension TenantID: DescribedEventFieldValue {}
extension OUID: DescribedEventFieldValue {}
extension ServiceID: DescribedEventFieldValue {}
extension UserID: DescribedEventFieldValue {}
extension PartnerID: DescribedEventFieldValue {}
extension DNSName: DescribedEventFieldValue {}
extension EmailAddress: DescribedEventFieldValue {}
extension CountryCode: DescribedEventFieldValue {}
extension UserStateName: DescribedEventFieldValue {}
extension Secret: DescribedEventFieldValue {}
extension PersonalData: DescribedEventFieldValue {}

extension Activity: NamedEventFieldValue {}
extension Availability: NamedEventFieldValue {}
extension LicenceKind: NamedEventFieldValue {}
extension TenantState: NamedEventFieldValue {}
extension ServiceType: NamedEventFieldValue {}
extension ProvisioningSource: NamedEventFieldValue {}
extension MembershipRole: NamedEventFieldValue {}
extension AssignableRole: NamedEventFieldValue {}
extension ServiceProvisioningPolicy: NamedEventFieldValue {}
extension DefaultTeamOwnerRole: NamedEventFieldValue {}
extension InteractAuthorization: NamedEventFieldValue {}
extension TeamVisibility: NamedEventFieldValue {}

extension Bool: EventFieldValue {
    /// `true` or `false`.
    package func appendJSON(to text: inout String) { text += self ? "true" : "false" }
}

extension Int: EventFieldValue {
    /// The number.
    package func appendJSON(to text: inout String) { text += String(self) }
}

extension UUID: EventFieldValue {
    /// Lower case, as the log's other ids.
    package func appendJSON(to text: inout String) { JSONText.appendQuoted(uuidString.lowercased(), to: &text) }
}

extension Optional: EventFieldValue where Wrapped: EventFieldValue {
    /// The value, or `null`.
    package func appendJSON(to text: inout String) {
        if let value = self { value.appendJSON(to: &text) } else { text += "null" }
    }
}

extension OUContent: EventFieldValue {
    /// `{"subOU":id}`, `{"service":id}` or `{"user":id}`.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            switch self {
            case .subOU(let id): json.field("subOU", id)
            case .service(let id): json.field("service", id)
            case .user(let id): json.field("user", id)
            }
        }
    }
}

extension PendingScriptItem: EventFieldValue {
    /// `{"kind":…}`, with `service` for the items about one service.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            switch self {
            case .o365DomainChanged: json.field("kind", "o365DomainChanged")
            case .azureTenantIDChanged: json.field("kind", "azureTenantIDChanged")
            case .serviceProvisioned(let service):
                json.field("kind", "serviceProvisioned")
                json.field("service", service)
            case .serviceDeletionRequested(let service):
                json.field("kind", "serviceDeletionRequested")
                json.field("service", service)
            case .tenantDeletionRequested: json.field("kind", "tenantDeletionRequested")
            }
        }
    }
}

extension SecurityGroups: EventFieldValue {
    /// The two groups.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("partnerAdminGroup", partnerAdminGroup)
            json.field("tenantAdminGroup", tenantAdminGroup)
        }
    }
}

extension BillingAddress: EventFieldValue {
    /// The address's lines.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("street1", street1)
            json.field("street2", street2)
            json.field("zip", zip)
            json.field("city", city)
            json.field("country", country)
        }
    }
}

extension CompanyDetails: EventFieldValue {
    /// Name, CRM id and billing address.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("companyName", companyName)
            json.field("crmID", crmID)
            json.field("billingAddress", billingAddress)
        }
    }
}

extension TechnicalContact: EventFieldValue {
    /// Every member is personal data.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("name", name)
            json.field("email", email)
            json.field("phone", phone)
            json.field("sipAddress", sipAddress)
        }
    }
}

extension DataPrivacySettings: EventFieldValue {
    /// The four switches.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("allowPartnerSeeUserIdentifiers", allowPartnerSeeUserIdentifiers)
            json.field("allowPartnerSeeCustomerIdentifiers", allowPartnerSeeCustomerIdentifiers)
            json.field("persistUserStatesInReporting", persistUserStatesInReporting)
            json.field("showTimeInState", showTimeInState)
        }
    }
}

extension DistributionSettings: EventFieldValue {
    /// The three delivery switches.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("deliverWhileBusy", deliverWhileBusy)
            json.field("deliverWhileInMeeting", deliverWhileInMeeting)
            json.field("deliverWhileAway", deliverWhileAway)
        }
    }
}

extension AssistantSettings: EventFieldValue {
    /// Own ACS, and its connection string masked.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("useOwnACS", useOwnACS)
            json.field("acsConnectionString", acsConnectionString)
        }
    }
}

extension AttendantConsoleSettings: EventFieldValue {
    /// Filter and team visibility.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("graphFilter", graphFilter)
            json.field("teamVisibility", teamVisibility)
        }
    }
}

extension EmailSettings: EventFieldValue {
    /// The limit.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in json.field("maxConcurrent", maxConcurrent) }
    }
}

extension ExternalTaskSettings: EventFieldValue {
    /// The limit.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("maxConcurrentPerService", maxConcurrentPerService)
        }
    }
}

extension OutboundSettings: EventFieldValue {
    /// The limit.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("maxScheduledTasksPerService", maxScheduledTasksPerService)
        }
    }
}

extension InstantMessagingSettings: EventFieldValue {
    /// Switch, limit, own ACS (its connection string masked) and resource id.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("enabled", enabled)
            json.field("maxConcurrentPerService", maxConcurrentPerService)
            json.field("useOwnACS", useOwnACS)
            json.field("acsConnectionString", acsConnectionString)
            json.field("acsResourceID", acsResourceID)
        }
    }
}

extension InteractSettings: EventFieldValue {
    /// Switch, connection string (masked), O365 user, session recovery and authorization.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("enabled", enabled)
            json.field("acsConnectionString", acsConnectionString)
            json.field("o365UserID", o365UserID)
            json.field("sessionRecoveryTimeoutSeconds", sessionRecoveryTimeoutSeconds)
            json.field("authorization", authorization)
        }
    }
}

extension PresenceTrackingSettings: EventFieldValue {
    /// Switch and the two service accounts.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("enabled", enabled)
            json.field("account1", account1)
            json.field("account2", account2)
        }
    }
}

extension ProvisioningSettings: EventFieldValue {
    /// Policy and default owner role.
    package func appendJSON(to text: inout String) {
        EventFieldsJSON.appendObject(to: &text) { json in
            json.field("serviceProvisioningViaTeams", serviceProvisioningViaTeams)
            json.field("defaultTeamOwnerRole", defaultTeamOwnerRole)
        }
    }
}
