import CumulusTesting
import Foundation
import Testing

/// `cumulus import`: JSON Lines of commands, refused lines named, summaries, --atomic.
@Suite("cumulus import")
struct ImportTests {
    let scratch = TemporaryDirectory(prefix: "cumulus-import")
    var directory: String { scratch.path }

    /// The example block of docs/domain.md: one line for every command, applying in order.
    static func examples() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/domain.md"), encoding: .utf8)
        let start = try #require(text.range(of: "<!-- import-examples:begin -->\n```jsonl\n"))
        let end = try #require(text.range(of: "```\n<!-- import-examples:end -->"))
        return String(text[start.upperBound..<end.lowerBound])
    }

    func cumulus(
        _ arguments: [String], input: String? = nil
    ) async throws -> (status: Int32, output: String, error: String) {
        try await ChildProcess.run("cumulus", arguments, input: input.map { Data($0.utf8) })
    }

    @Test func everyExampleCommandImportsAndARepeatStoresNothing() async throws {
        let examples = try Self.examples()
        let lineCount = examples.split(separator: "\n").count
        #expect(try await cumulus(["init", "--data-dir", directory]).status == 0)
        let first = try await cumulus(["import", "--data-dir", directory], input: examples)
        #expect(first.status == 0, "\(first.error)")
        #expect(first.output.contains("accepted: \(lineCount) "), "\(first.output)")
        #expect(first.output.contains("refused: 0"))
        let verified = try await cumulus(["verify", "--data-dir", directory])
        #expect(verified.status == 0)
        // The same file again: every line is recognised by its event id (given, or derived from the line).
        let second = try await cumulus(["import", "--data-dir", directory], input: examples)
        #expect(second.status == 0, "\(second.error)")
        #expect(second.output.contains("duplicates: \(lineCount), events appended: 0"), "\(second.output)")
    }

    @Test func malformedUnknownAndMissingAreRefusedLinesNotCrashes() async throws {
        #expect(try await cumulus(["init", "--data-dir", directory]).status == 0)
        let input = """
            {"command":"createTenant","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","name":"Contoso","o365Domain":"contoso.onmicrosoft.com","azureTenantId":"9a0c7a4e-3f1b-4c55-8d7e-0c1d2e3f4a5b","rootOU":"0b6f4f8e-1d2c-4e5f-8a9b-0c1d2e3f4a01","rootOUName":"Contoso"}
            {not json
            {"command":"launchRocket","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z"}
            {"command":"renameTenant","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11"}
            {"command":"changeOutboundSettings","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","maxScheduledTasksPerService":51}
            {"command":"renameTenant","actor":"guest","occurredAt":"2026-11-20T08:00:00Z","tenant":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","name":"Nope"}
            """
        let result = try await cumulus(["import", "--data-dir", directory], input: input)
        #expect(result.status == 1)
        #expect(result.error.contains("line 2: malformed JSON"))
        #expect(result.error.contains("line 3: ") && result.error.contains("launchRocket"))
        #expect(result.error.contains("line 4: ") && result.error.contains("name"))
        #expect(result.error.contains("line 5: ") && result.error.contains("maxScheduledTasksPerService"))
        #expect(result.error.contains("line 6: permission denied"))
        #expect(result.output.contains("accepted: 1 ") && result.output.contains("refused: 5"))
    }

    @Test func atomicImportRefusesTheWholeFileForOneBadLine() async throws {
        #expect(try await cumulus(["init", "--data-dir", directory]).status == 0)
        let examples = try Self.examples()
        let broken =
            examples
            + "{\"command\":\"renameTenant\",\"actor\":\"guest\",\"occurredAt\":\"2026-11-20T09:00:00Z\",\"tenant\":\"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11\",\"name\":\"X\"}\n"
        let refused = try await cumulus(["import", "--data-dir", directory, "--atomic"], input: broken)
        #expect(refused.status == 1)
        #expect(refused.output.contains("nothing was appended"))
        let stats = try await cumulus(["stats", "--data-dir", directory, "--json"])
        #expect(stats.output.contains("\"events\":0"))
        let accepted = try await cumulus(["import", "--data-dir", directory, "--atomic"], input: examples)
        #expect(accepted.status == 0, "\(accepted.error)")
        #expect(accepted.output.contains("refused: 0"))
    }

    @Test func secretsNeverAppearInReadOutputOrErrors() async throws {
        #expect(try await cumulus(["init", "--data-dir", directory]).status == 0)
        let examples = try Self.examples()
        let first = examples.split(separator: "\n")[0]
        let secret = "endpoint=https://acs.example.com/;accesskey=TOPSECRETKEY42"
        let tenant = "6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11"
        let settings =
            "{\"command\":\"changeInteractSettings\",\"actor\":\"systemAdmin\",\"occurredAt\":\"2026-11-20T08:00:00Z\","
            + "\"tenant\":\"\(tenant)\",\"enabled\":true,\"acsConnectionString\":\"\(secret)\","
            + "\"sessionRecoveryTimeoutSeconds\":20,\"authorization\":\"none\"}"
        let outOfRange = settings.replacingOccurrences(
            of: "\"sessionRecoveryTimeoutSeconds\":20", with: "\"sessionRecoveryTimeoutSeconds\":99")
        let result = try await cumulus(
            ["import", "--data-dir", directory], input: "\(first)\n\(settings)\n\(outOfRange)\n")
        #expect(result.error.contains("line 3: ") && !result.error.contains("TOPSECRETKEY42"), "\(result.error)")
        let read = try await cumulus(["read", "--data-dir", directory])
        let encoded = Data(secret.utf8).base64EncodedString().prefix(12)
        #expect(read.status == 0)
        #expect(!read.output.contains("TOPSECRETKEY42") && !read.output.contains(String(encoded)))
        #expect(read.output.contains("\"payloadWithheld\":true") && read.output.contains("accesskey=****"))
        // The event's fields by name, the secret masked inside its settings object.
        let lines = read.output.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        let changed = try #require(lines.first { $0["type"] as? String == "InteractSettingsChanged" })
        let event = try #require(changed["event"] as? [String: Any], "\(changed)")
        #expect(event["tenant"] as? String == tenant)
        let fields = try #require(event["settings"] as? [String: Any])
        #expect(fields["enabled"] as? Bool == true && fields["sessionRecoveryTimeoutSeconds"] as? Int == 20)
        #expect(fields["authorization"] as? String == "none")
        #expect((fields["acsConnectionString"] as? String)?.contains("accesskey=****") == true, "\(fields)")
    }
}
