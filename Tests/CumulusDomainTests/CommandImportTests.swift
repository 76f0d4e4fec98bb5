import CumulusDomain
import Foundation
import Testing

@Suite struct CommandImportTests {
    static let tenant = "6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11"

    /// The example block of docs/domain.md, one line per command.
    static func designExamples() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/domain.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let start = try #require(text.range(of: "<!-- import-examples:begin -->\n```jsonl\n"))
        let end = try #require(text.range(of: "```\n<!-- import-examples:end -->"))
        return String(text[start.upperBound..<end.lowerBound])
    }

    @Test func designHasAnExampleForEveryCommandAndTheyApplyInOrder() throws {
        let results = CommandImport.parse(lines: try Self.designExamples())
        var names: Set<String> = []
        var context = DecisionContext()
        for (line, result) in results {
            let request = try result.get()
            let json = try JSONSerialization.jsonObject(with: Data(try Self.line(line, of: Self.designExamples()).utf8))
            names.insert(try #require((json as? [String: Any])?["command"] as? String))
            do {
                let decision = try request.decide(in: context)
                #expect(!decision.isEmpty, "line \(line) changed nothing")
                context.apply(decision.events)
            } catch {
                Issue.record("line \(line) refused: \(error)")
            }
        }
        #expect(names == Set(CommandImport.commandNames))
        #expect(context.tenant?.lifecycle == .deleted)
    }

    static func line(_ number: Int, of text: String) -> String {
        String(text.split(separator: "\n", omittingEmptySubsequences: false)[number - 1])
    }

    @Test func parsesEnvelopeFields() throws {
        let line =
            #"{"command":"changeTenantState","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00.123456Z","#
            + #""eventId":"0F0E0D0C-0B0A-4909-8807-060504030201","tenant":"\#(Self.tenant)","state":"suspended"}"#
        let request = try CommandImport.parse(line: line, number: 1)
        #expect(request.actor == .systemAdmin)
        #expect(request.occurredAt == 1_795_161_600_123_456)
        #expect(request.eventID == UUID(uuidString: "0f0e0d0c-0b0a-4909-8807-060504030201"))
        #expect(request.command == .changeTenantState(tenant: TenantID(string: Self.tenant)!, state: .suspended))
    }

    @Test(arguments: [
        ("{not json", "malformed JSON: expected a member name in double quotes at column 2"),
        (#"{"a":1 "b":2}"#, "malformed JSON: expected `,` or `}` in an object at column 8"),
        (#"{"a":[1 2]}"#, "malformed JSON: expected `,` or `]` in an array at column 9"),
        (
            #"{"a":"\ud800\u0041"}"#,
            "malformed JSON: a UTF-16 high surrogate \\uD800 not followed by a low one at column 7"
        ),
        (#"{"command":"renameTenant","name":"\ud800"}"#, "malformed JSON: a UTF-16 high surrogate \\uD800 not"),
        (
            #"{"command":"renameTenant","count":-2e999}"#,
            "malformed JSON: the number -2e999 is out of range at column 35"
        ),
        ("[1,2]", "a line must be a JSON object, not an array"),
        (#"{"actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z"}"#, "missing field `command`"),
        (
            #"{"command":"explodeTenant","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z"}"#,
            "unknown command `explodeTenant`"
        ),
        (#"{"command":"renameTenant","occurredAt":"2026-11-20T08:00:00Z"}"#, "missing field `actor`"),
        (
            #"{"command":"renameTenant","actor":"root","occurredAt":"2026-11-20T08:00:00Z"}"#,
            "field `actor` is not an actor"
        ),
        (#"{"command":"renameTenant","actor":"systemAdmin"}"#, "missing field `occurredAt`"),
        (
            #"{"command":"renameTenant","actor":"systemAdmin","occurredAt":"yesterday"}"#,
            "field `occurredAt`: not an ISO 8601 time such as 2026-11-20T08:00:00Z"
        ),
        (
            #"{"command":"renameTenant","actor":"systemAdmin","occurredAt":"2026-02-30T08:00:00Z"}"#,
            "field `occurredAt`"
        ),
        (
            #"{"command":"renameTenant","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","name":"X"}"#,
            "missing field `tenant`"
        ),
        (
            #"{"command":"renameTenant","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"abc","name":"X"}"#,
            "field `tenant` must be a UUID"
        ),
        (
            #"{"command":"renameTenant","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","name":7}"#,
            "field `name` must be a string, not an integer"
        ),
        (
            #"{"command":"setLicenceContingent","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","kind":"email","contingent":"5"}"#,
            "field `contingent` must be an integer, not a string"
        ),
        (
            #"{"command":"setLicenceContingent","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","kind":"email","contingent":2.5}"#,
            "field `contingent` must be an integer, not a number"
        ),
        (
            #"{"command":"setLicenceContingent","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","kind":"gold","contingent":2}"#,
            "field `kind` must be one of `advancedRouting`"
        ),
        (
            #"{"command":"changeEmailSettings","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","maxConcurrent":true}"#,
            "field `maxConcurrent` must be an integer, not a boolean"
        ),
        (
            #"{"command":"changeInteractSettings","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","enabled":1}"#,
            "field `enabled` must be true or false, not an integer"
        ),
        (
            #"{"command":"changeTechnicalContact","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","technicalContact":{"email":"a@b.co"}}"#,
            "missing field `technicalContact.name`"
        ),
        // A field no command reads is refused, not taken as absent: a misspelt optional field would otherwise
        // clear the setting it meant to set.
        (
            #"{"command":"changeSecurityGroups","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","partnerAdminGroup":"g1","tenantAdminGroups":"g2"}"#,
            "field `tenantAdminGroups` is not a field of `changeSecurityGroups`"
        ),
        (
            #"{"command":"changeCompanyDetails","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","companyName":"C","billingAddress":{"city":"Bern","zipCode":"3000"}}"#,
            "field `billingAddress.zipCode` is not a field of `changeCompanyDetails`"
        ),
    ])
    func refusedLinesNameTheProblem(line: String, reason: String) {
        do {
            _ = try CommandImport.parse(line: line, number: 7)
            Issue.record("accepted: \(line)")
        } catch {
            #expect(error.line == 7)
            #expect(error.reason.hasPrefix(reason), "\(error.reason)")
            #expect(error.description.hasPrefix("line 7: "))
        }
    }

    @Test func aFileReportsEachRefusedLineAndSkipsBlankOnes() {
        let text = """
            {"command":"setLicenceContingent","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"\(Self.tenant)","kind":"email","contingent":5}

            {oops
            {"command":"deleteOU","actor":"guest","occurredAt":"2026-11-20T08:00:00Z"}
            """
        let results = CommandImport.parse(lines: text)
        #expect(results.map(\.line) == [1, 3, 4])
        #expect((try? results[0].result.get()) != nil)
        #expect(
            throws: ImportLineRefusal(
                line: 3, reason: "malformed JSON: expected a member name in double quotes at column 2")
        ) { try results[1].result.get() }
        #expect(throws: ImportLineRefusal(line: 4, reason: "missing field `ou`")) { try results[2].result.get() }
    }

    @Test func secretsInRefusedLinesAreNotEchoed() throws {
        let line =
            #"{"command":"changeInteractSettings","actor":"tenantAdmin:\#(Self.tenant)","occurredAt":"2026-11-20T08:00:00Z","#
            + #""tenant":"\#(Self.tenant)","enabled":true,"acsConnectionString":"endpoint=http://x.com;accesskey=LEAKME"}"#
        let request = try CommandImport.parse(line: line, number: 1)
        var world = try TestWorld.withTenant()
        world.context.tenant = nil
        try world.run(
            TestWorld.createTenant(
                TenantID(string: Self.tenant)!, name: "Other", domain: "other.com",
                azureID: UUID().uuidString, root: OUID(UUID())))
        do {
            _ = try request.decide(in: world.context)
            Issue.record("accepted")
        } catch {
            #expect(error.validationField == "interact.acsConnectionString")
            #expect(!error.description.contains("LEAKME"))
        }
    }

    @Test func occurredAtIsReadAsISO8601ToTheMicrosecond() throws {
        let line = try Self.designExamples().split(separator: "\n")[0]
            .replacingOccurrences(of: "2026-11-20T08:01:00Z", with: "2026-11-20T09:01:00.250125+01:00")
        let request = try CommandImport.parse(line: line, number: 1)
        #expect(request.occurredAt == 1_795_161_660_250_125)
        let bad = line.replacingOccurrences(of: "2026-11-20T09:01:00.250125+01:00", with: "2023-02-29T00:00:00Z")
        #expect(throws: ImportLineRefusal.self) { try CommandImport.parse(line: bad, number: 2) }
    }
}
