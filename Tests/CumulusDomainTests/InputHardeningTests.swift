import CumulusDomain
import CumulusLog
import Foundation
import Testing

/// Issue 14: invalid UTF-8, control characters, times and nesting in import lines, each refused with an exact
/// message that names the line (and the byte where there is one).
@Suite("Import input hardening")
struct InputHardeningTests {
    static let tenant = "6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11"

    /// A `renameTenant` line whose parts can be replaced by raw bytes.
    static func line(
        actor: [UInt8] = Array("systemAdmin".utf8), name: [UInt8] = Array("Contoso".utf8),
        command: [UInt8] = Array("renameTenant".utf8), occurredAt: String = "2026-11-20T08:00:00Z"
    ) -> [UInt8] {
        Array("{\"command\":\"".utf8) + command + Array("\",\"actor\":\"".utf8) + actor
            + Array("\",\"occurredAt\":\"\(occurredAt)\",\"tenant\":\"\(tenant)\",\"name\":\"".utf8) + name
            + Array("\"}".utf8)
    }

    func refusal(_ bytes: [UInt8]) throws -> ImportLineRefusal {
        let parsed = CommandImport.parse(bytes: Array("\n".utf8) + bytes + Array("\n".utf8))
        try #require(parsed.count == 1)
        guard case .failure(let refusal) = parsed[0].result else {
            Issue.record("the line was accepted")
            return ImportLineRefusal(line: 0, reason: "")
        }
        return refusal
    }

    @Test func invalidUTF8IsRefusedWithTheLineAndTheByteOffsetNeverReplaced() throws {
        let prefix = Array("{\"command\":\"renameTenant\",\"actor\":\"".utf8).count
        // In the actor, in a name, in the command name: each line refused, naming line 2 and the offset.
        let inActor = try refusal(Self.line(actor: Array("system".utf8) + [0xFF, 0xFE] + Array("Admin".utf8)))
        #expect(inActor.description == "line 2: invalid UTF-8 at byte offset \(prefix + 6) of the line")
        let nameOffset = Self.line(name: []).count - 2
        let first = try refusal(Self.line(name: Array("bad".utf8) + [0xFF, 0xFE]))
        let second = try refusal(Self.line(name: Array("bad".utf8) + [0xFE, 0xFF]))
        #expect(first.description == "line 2: invalid UTF-8 at byte offset \(nameOffset + 3) of the line")
        #expect(second.description == first.description)
        let truncated = try refusal(Self.line(name: Array("Zürich".utf8).dropLast(6) + [0xC3]))
        #expect(truncated.reason.hasPrefix("invalid UTF-8 at byte offset \(nameOffset + 1)"))
        let overlong = try refusal(Self.line(command: [0xC0, 0xAF]))
        #expect(overlong.reason == "invalid UTF-8 at byte offset 12 of the line")
        // Valid multi-byte text still passes.
        let valid = CommandImport.parse(bytes: Self.line(name: Array("Zürich AG 🌤".utf8)))
        guard case .success(let request) = valid.first?.result,
            case .renameTenant(_, let name) = request.command
        else {
            Issue.record("valid UTF-8 was refused: \(valid)")
            return
        }
        #expect(name == "Zürich AG 🌤")
    }

    @Test(arguments: [
        ("0000-11-20T08:00:00Z", "year 0000 does not exist: the year must be 0001 or later"),
        ("2026-11-20 08:00:00Z", "date and time must be separated by `T`, not a space"),
        ("2026-11-20T08:00:60Z", "second 60 does not exist (00–59; no leap seconds)"),
        ("2026-11-20T08:00:00.1234567Z", "at most 6 fraction digits (microseconds) are allowed, not 7 or more"),
        ("2026-11-20T24:00:00Z", "hour 24 does not exist (00–23)"),
        ("2026-02-30T08:00:00Z", "day 30 does not exist in 2026-02"),
        (
            "2026-11-20T08:00:00",
            "not an ISO 8601 time such as 2026-11-20T08:00:00Z: the zone (`Z` or ±hh:mm) is missing"
        ),
    ])
    func occurredAtIsRefusedWithAnExactMessage(text: String, message: String) throws {
        let refused = try refusal(Self.line(occurredAt: text))
        #expect(refused.description == "line 2: field `occurredAt`: \(message)")
        #expect(throws: TimestampFormatError(reason: message)) { try Timestamp.parse(iso8601: text) }
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test func sixFractionDigitsAndOffsetsStillParse() throws {
        #expect(
            try Timestamp.parse(iso8601: "2026-11-20T08:15:00.250125Z").microsecondsSinceEpoch
                == 1_795_162_500_250_125)
        #expect(try Timestamp.parse(iso8601: "0001-01-01T00:00:00+01:00").iso8601 == "0000-12-31T23:00:00Z")
    }

    @Test func aPayloadNested10000DeepIsRefusedAsTooDeep() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let text = "{\"command\":\"renameTenant\",\"actor\":\"systemAdmin\",\"extra\":\(deep)}"
        let refused = try refusal(Array(text.utf8))
        let offset = text.utf8.count - 20_000 - 1 + JSONLines.nestingLimit - 1
        #expect(
            refused.description == "line 2: nested too deep (limit \(JSONLines.nestingLimit)) at byte offset \(offset)")
        // Brackets inside strings do not count.
        #expect(JSONLines.offsetNestingDeeper(than: 2, in: "{\"a\":\"[[[[\\\"[[\"}") == nil)
        #expect(JSONLines.offsetNestingDeeper(than: 2, in: "{\"a\":[[1]]}") == 6)
    }

    @Test func controlCharactersInAnEchoedCommandNameAreMadeVisible() throws {
        let refused = try refusal(Self.line(command: Array("x\\u001b]0;owned\\u0007".utf8)))
        #expect(refused.reason == "unknown command `x\\u{1b}]0;owned\\u{7}`")
        #expect(!refused.reason.unicodeScalars.contains(where: VisibleText.isControl))
    }
}

/// Issue 14, item 7: names with control characters are refused by the domain, whatever the name.
@Suite("Control characters in names")
struct ControlCharacterTests {
    static let controls = ["\u{0}", "\u{1B}[2J", "\u{07}", "a\rb", "a\nb", "\u{7F}", "\u{9B}31m"]

    func expectRefused(_ field: String, _ body: () throws(DomainError) -> Void) {
        do throws(DomainError) {
            try body()
            Issue.record("\(field): a control character was accepted")
        } catch {
            #expect(error == .validation(ValidationFailure(field: field, rule: FieldRules.noControlCharactersRule)))
        }
    }

    @Test(arguments: controls)
    func everyNameRefusesControlCharacters(_ control: String) throws {
        var world = try TestWorld.withTenant()
        let tenant = TestWorld.tenant
        let name = "Name \(control) end"
        expectRefused("name") { () throws(DomainError) in
            var fresh = TestWorld()
            try fresh.run(TestWorld.createTenant(name: name))
        }
        expectRefused("rootOUName") { () throws(DomainError) in
            var fresh = TestWorld()
            try fresh.run(
                .createTenant(
                    tenant: tenant, name: "Contoso", o365Domain: "contoso.onmicrosoft.com",
                    azureTenantID: TestWorld.azureID, partner: nil, rootOU: TestWorld.root, rootOUName: name,
                    widgetKey: UUID()))
        }
        expectRefused("name") { () throws(DomainError) in try world.run(.renameTenant(tenant: tenant, name: name)) }
        expectRefused("name") { () throws(DomainError) in
            try world.run(.createOU(tenant: tenant, ou: OUID(UUID()), parent: TestWorld.root, name: name))
        }
        expectRefused("name") { () throws(DomainError) in
            try world.run(
                .provisionService(
                    tenant: tenant, service: ServiceID(UUID()), name: name, type: .advancedRouting, ou: nil,
                    source: .backend, owner: nil))
        }
        expectRefused("displayName") { () throws(DomainError) in
            try world.run(
                .createUser(tenant: tenant, user: UserID(UUID()), upn: "a@contoso.com", displayName: name, ou: nil))
        }
        expectRefused("technicalContact.name") { () throws(DomainError) in
            try world.run(
                .changeTechnicalContact(
                    tenant: tenant,
                    contact: TechnicalContactInput(name: name, email: nil, phone: nil, sipAddress: nil)))
        }
        let user = UserID(UUID())
        try world.run(
            .createUser(tenant: tenant, user: user, upn: "b@contoso.com", displayName: "B", ou: nil))
        expectRefused("state") { () throws(DomainError) in
            try world.run(.changeUserState(user: user, state: name, responsibilityProfile: nil), by: .user(user))
        }
        expectRefused("responsibilityProfile") { () throws(DomainError) in
            try world.run(
                .changeUserState(user: user, state: "Break", responsibilityProfile: name), by: .user(user))
        }
    }

    @Test func visibleTextEscapesC0DelAndC1AndLeavesOtherTextAlone() {
        #expect(VisibleText.escaped("a\u{1B}[31mb\u{0}\u{7F}\u{85}ü🌤") == "a\\u{1b}[31mb\\u{0}\\u{7f}\\u{85}ü🌤")
        #expect(VisibleText.escaped("Zürich AG") == "Zürich AG")
        // An excerpt: the first characters (here 4), escaped after the cut, and an ellipsis only when cut.
        #expect(VisibleText.excerpt("ab\u{1B}cdef", limit: 4) == "ab\\u{1b}c…")
        #expect(VisibleText.excerpt("ab\u{1B}c", limit: 4) == "ab\\u{1b}c")
        #expect(VisibleText.excerpt(String(repeating: "x", count: 200)).count == 65)
    }
}
