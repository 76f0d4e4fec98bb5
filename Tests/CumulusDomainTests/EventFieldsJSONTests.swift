import CumulusDomain
import Foundation
import Testing

/// `DomainEvent.fieldsJSON` (the `event` member of `cumulus read`): every field by its own name, nested values as
/// objects by their members' names, no secret in clear and no personal data.
@Suite struct EventFieldsJSONTests {
    /// The JSON object of `text`, or nil.
    static func object(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    /// The stored properties of `value` (through an optional), by the names Swift gives them: what the explicit
    /// keys must cover. Reflection is used here only to check the hand-written keys.
    static func members(of value: Any) -> [String: Any]? {
        var mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            mirror = Mirror(reflecting: wrapped)
        }
        guard mirror.displayStyle == .struct else { return nil }
        var members: [String: Any] = [:]
        for child in mirror.children { if let label = child.label { members[label] = child.value } }
        return members
    }

    /// Every secret held anywhere in `value`.
    static func secrets(in value: Any) -> [Secret] {
        if let secret = value as? Secret { return [secret] }
        return Mirror(reflecting: value).children.flatMap { secrets(in: $0.value) }
    }

    /// Checks that `json` has exactly the keys of `value`'s members, recursively for nested structs (a value that
    /// renders as a string, such as a secret or personal data, has no members to compare).
    static func expectSameKeys(_ json: [String: Any], _ value: Any, path: String) {
        guard let members = members(of: value) else { return }
        #expect(Set(json.keys) == Set(members.keys), "\(path): \(json.keys.sorted()) vs \(members.keys.sorted())")
        for (name, member) in members {
            if let nested = json[name] as? [String: Any] { expectSameKeys(nested, member, path: path + "." + name) }
        }
    }

    @Test func everyEventTypeRendersEveryFieldByItsName() throws {
        for event in try EventSamples.all() {
            let text = event.fieldsJSON
            let json = try #require(Self.object(text), "\(event.typeName): \(text)")
            Self.expectSameKeys(json, event.payload, path: event.typeName)
            #expect(!json.isEmpty, "\(event.typeName)")
        }
    }

    @Test func secretsAreMaskedAndPersonalDataReplaced() throws {
        var secretsSeen = 0
        var personalSeen = 0
        for event in try EventSamples.all() {
            let text = event.fieldsJSON
            let json = try #require(Self.object(text))
            for secret in Self.secrets(in: event.payload) {
                secretsSeen += 1
                #expect(!text.contains(secret.revealedForStorage), "\(event.typeName): \(text)")
                #expect(Self.strings(in: json).contains(secret.masked), "\(event.typeName): \(text)")
            }
            for field in event.personalDataFields {
                personalSeen += 1
                let leaves = Self.strings(in: json[field] as Any)
                #expect(!leaves.isEmpty, "\(event.typeName).\(field): \(text)")
                #expect(leaves.allSatisfy { $0 == "<personal data>" }, "\(event.typeName).\(field): \(text)")
            }
        }
        #expect(secretsSeen > 0 && personalSeen > 0)
    }

    @Test func valuesAreTheStoredTexts() throws {
        let tenant = TenantID(UUID())
        let event = DomainEvent.presenceChanged(
            PresenceChanged(user: UserID(UUID()), availability: .beRightBack, activity: .away))
        #expect(event.fieldsJSON.contains("\"availability\":\"BeRightBack\",\"activity\":\"Away\""))
        let settings = DomainEvent.dataPrivacySettingsChanged(
            DataPrivacySettingsChanged(
                tenant: tenant,
                settings: DataPrivacySettings(
                    allowPartnerSeeUserIdentifiers: true, allowPartnerSeeCustomerIdentifiers: false,
                    persistUserStatesInReporting: true, showTimeInState: false)))
        #expect(
            settings.fieldsJSON
                == "{\"tenant\":\"\(tenant)\",\"settings\":{\"allowPartnerSeeUserIdentifiers\":true,"
                + "\"allowPartnerSeeCustomerIdentifiers\":false,\"persistUserStatesInReporting\":true,"
                + "\"showTimeInState\":false}}")
        // Text is escaped as JSON: a name with a quote, a backslash and a line separator stays one string.
        let renamed = DomainEvent.tenantRenamed(TenantRenamed(tenant: tenant, name: "A \"B\" \\ C\u{2028}"))
        let json = try #require(Self.object(renamed.fieldsJSON))
        #expect(json["name"] as? String == "A \"B\" \\ C\u{2028}")
    }

    /// Every string leaf of a JSON value.
    static func strings(in value: Any) -> [String] {
        if let text = value as? String { return [text] }
        if let object = value as? [String: Any] { return object.values.flatMap { strings(in: $0) } }
        if let array = value as? [Any] { return array.flatMap { strings(in: $0) } }
        return []
    }
}
