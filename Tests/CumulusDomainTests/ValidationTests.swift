import CumulusDomain
import Foundation
import Testing

@Suite struct ValidationTests {
    @Test(arguments: ["contoso.onmicrosoft.com", "a.b", "x-1.example.org", "CONTOSO.COM"])
    func acceptsDNSNames(value: String) throws {
        #expect(try DNSName(value, field: "o365Domain").value == value.lowercased())
    }

    @Test(arguments: [
        "", "contoso", "-contoso.com", "contoso-.com", "contoso..com", "cont oso.com", "contoso.123", "a_b.com",
        String(repeating: "a", count: 64) + ".com", ".contoso.com", "contoso.com.",
    ])
    func rejectsDNSNames(value: String) {
        #expect(throws: DomainError.self) { try DNSName(value, field: "o365Domain") }
    }

    @Test func dnsNameErrorNamesFieldAndRule() {
        do {
            _ = try DNSName("nodots", field: "o365Domain")
            Issue.record("accepted")
        } catch {
            #expect(error.validationField == "o365Domain")
            #expect(error.description.contains("o365Domain"))
            #expect(error.description.contains("DNS name"))
        }
    }

    @Test(arguments: ["anna@contoso.com", "a.b+c@x.co", "first.last@sub.example.org"])
    func acceptsEmail(value: String) throws {
        #expect(try EmailAddress(value, field: "email").value == value)
    }

    @Test(arguments: [
        "", "anna", "anna@", "@contoso.com", "an na@contoso.com", "anna@@contoso.com", ".a@x.com",
        "a..b@x.com", "anna@contoso",
    ])
    func rejectsEmail(value: String) {
        #expect(throws: DomainError.self) { try EmailAddress(value, field: "email") }
    }

    @Test(arguments: ["+41", "+41315550100", "+123456789012345", "+9" + String(repeating: "1", count: 14)])
    func acceptsE164(value: String) throws {
        #expect(try PhoneNumber(value, field: "phone").value == value)
    }

    @Test(arguments: [
        "", "+", "+4", "41315550100", "+0315550100", "+1234567890123456", "+41 31 555", "+41-31", "++41",
    ])
    func rejectsE164(value: String) {
        #expect(throws: DomainError.self) { try PhoneNumber(value, field: "phone") }
    }

    @Test func e164BoundaryIsTwoToFifteenDigits() throws {
        #expect(throws: DomainError.self) { try PhoneNumber("+1", field: "phone") }  // 1 digit
        _ = try PhoneNumber("+12", field: "phone")  // 2 digits
        _ = try PhoneNumber("+" + String(repeating: "1", count: 15), field: "phone")  // 15 digits
        #expect(throws: DomainError.self) { try PhoneNumber("+" + String(repeating: "1", count: 16), field: "phone") }
    }

    @Test(arguments: ["sip:anna@contoso.com", "sip:a.b@x.org"])
    func acceptsSIP(value: String) throws {
        #expect(try SIPAddress(value, field: "sip").value == value)
    }

    @Test(arguments: [
        "anna@contoso.com", "sip:", "sip:@contoso.com", "sip:anna@", "sips:anna@contoso.com",
        "SIP:anna@contoso.com", "sip:an na@contoso.com", "sip:anna@nodot",
    ])
    func rejectsSIP(value: String) {
        #expect(throws: DomainError.self) { try SIPAddress(value, field: "sip") }
    }

    @Test func countryCodes() throws {
        #expect(try CountryCode("CH", field: "country").code == "CH")
        #expect(try CountryCode("de", field: "country").code == "DE")
        #expect(throws: DomainError.self) { try CountryCode("XX", field: "country") }
        #expect(throws: DomainError.self) { try CountryCode("CHE", field: "country") }
        #expect(throws: DomainError.self) { try CountryCode("UK", field: "country") }  // GB is the code
        #expect(throws: DomainError.self) { try CountryCode("", field: "country") }
    }

    @Test func guids() throws {
        let uuid = try FieldRules.guid("9A0C7A4E-3F1B-4C55-8D7E-0C1D2E3F4A5B", field: "tenantId")
        #expect(uuid.uuidString.lowercased() == "9a0c7a4e-3f1b-4c55-8d7e-0c1d2e3f4a5b")
        for bad in [
            "", "9a0c7a4e3f1b4c558d7e0c1d2e3f4a5b", "9a0c7a4e-3f1b-4c55-8d7e-0c1d2e3f4a5",
            "zzzzzzzz-3f1b-4c55-8d7e-0c1d2e3f4a5b",
        ] {
            #expect(throws: DomainError.self) { try FieldRules.guid(bad, field: "tenantId") }
        }
    }

    @Test func textLengthBoundaries() throws {
        #expect(throws: DomainError.self) { try FieldRules.text("", field: "name") }
        _ = try FieldRules.text("a", field: "name")
        _ = try FieldRules.text(String(repeating: "a", count: 256), field: "name")
        #expect(throws: DomainError.self) { try FieldRules.text(String(repeating: "a", count: 257), field: "name") }
        #expect(throws: DomainError.self) { try FieldRules.text("   ", field: "name") }
        _ = try FieldRules.text("", field: "crmId", length: 0...256)
    }

    @Test func numberRangeErrorsNameTheRange() {
        do {
            _ = try FieldRules.number(51, field: "outbound.maxScheduledTasksPerService", range: 1...50)
            Issue.record("accepted")
        } catch {
            #expect(error.description == "invalid outbound.maxScheduledTasksPerService: must be between 1 and 50")
        }
    }

    static let connection = "endpoint=https://contoso-acs.communication.azure.com/;accesskey=c2VjcmV0S2V5VmFsdWU="

    @Test func acceptsACSConnectionStrings() throws {
        _ = try Secret(acsConnectionString: Self.connection, field: "x")
        _ = try Secret(acsConnectionString: "AccessKey=abc;Endpoint=https://a.b", field: "x")
    }

    @Test(arguments: [
        "", "endpoint=https://a.b", "accesskey=abc", "endpoint=http://a.b;accesskey=abc",
        "endpoint=https://a.b;accesskey=", "endpoint=https://;accesskey=abc", "endpoint=https://a.b;accesskey=abc;x=y",
        "garbage",
    ])
    func rejectsACSConnectionStrings(value: String) {
        #expect(throws: DomainError.self) { try Secret(acsConnectionString: value, field: "x") }
    }

    @Test func secretsAreMaskedEverywhere() throws {
        let secret = try Secret(acsConnectionString: Self.connection, field: "x")
        let key = "c2VjcmV0S2V5VmFsdWU="
        #expect(secret.description == "endpoint=https://c…;accesskey=****")
        #expect(!String(describing: secret).contains(key))
        #expect(!String(reflecting: secret).contains(key))
        #expect(!"\(secret)".contains(key))
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains(key))
        let settings = InteractSettings(enabled: true, acsConnectionString: secret)
        #expect(!String(describing: settings).contains(key))
        #expect(!String(reflecting: settings).contains(key))
        let event = DomainEvent.interactSettingsChanged(
            InteractSettingsChanged(tenant: TestWorld.tenant, settings: settings))
        #expect(!String(describing: event).contains(key))
        dumped = ""
        dump(event, to: &dumped)
        #expect(!dumped.contains(key))
        #expect(String(describing: event).contains("accesskey=****"))
    }

    @Test func invalidSecretErrorNeverEchoesTheValue() {
        let leaked = "endpoint=http://contoso.com;accesskey=TOPSECRET"
        do {
            _ = try Secret(acsConnectionString: leaked, field: "interact.acsConnectionString")
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("TOPSECRET"))
            #expect(error.description.contains("interact.acsConnectionString"))
            #expect(!String(reflecting: error).contains("TOPSECRET"))
        }
    }

    @Test func personalDataIsMarkedAndNotPrinted() {
        let event = UserCreated(
            user: UserID(UUID()), tenant: TestWorld.tenant, ou: TestWorld.root, upn: PersonalData("anna@contoso.com"),
            displayName: PersonalData("Anna Muster"))
        #expect(UserCreated.personalDataFields == ["upn", "displayName"])
        #expect(event.dataSubject == .user(event.user))
        #expect(!String(describing: event).contains("Anna Muster"))
        #expect(TechnicalContactChanged.personalDataFields == ["contact"])
        #expect(PresenceChanged.personalDataFields.isEmpty)
        #expect(event.upn.value == "anna@contoso.com")
    }
}
