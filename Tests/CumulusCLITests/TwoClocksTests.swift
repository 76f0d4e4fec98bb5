import CumulusTesting
import Foundation
import Testing

/// `--as-of` (what the log had recorded) and `--valid-at` (what was true at an instant of the source's clock)
/// differ after a late event; both are right (domain.md §12).
@Suite("Two clocks from the command line")
struct TwoClocksTests {
    let scratch = TemporaryDirectory(prefix: "cumulus-clocks")
    var directory: String { scratch.path }
    static let tenant = "6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11"
    static let user = "2b7e9c1a-4d3f-4e2a-9b8c-7d6e5f4a3b2c"

    func cumulus(
        _ arguments: [String], input: String? = nil
    ) async throws -> (status: Int32, output: String, error: String) {
        try await ChildProcess.run(
            "cumulus", arguments + ["--data-dir", directory], input: input.map { Data($0.utf8) })
    }

    /// Anna is Available from 09:00 and Busy from 11:00; that she was Away from 10:00 arrives last.
    static let history = """
        {"command":"createTenant","actor":"systemAdmin","occurredAt":"2026-11-20T08:00:00Z","tenant":"\(tenant)","name":"Contoso","o365Domain":"contoso.onmicrosoft.com","azureTenantId":"9a0c7a4e-3f1b-4c55-8d7e-0c1d2e3f4a5b","rootOU":"0b6f4f8e-1d2c-4e5f-8a9b-0c1d2e3f4a01","rootOUName":"Contoso"}
        {"command":"changeDataPrivacySettings","actor":"systemAdmin","occurredAt":"2026-11-20T08:01:00Z","tenant":"\(tenant)","persistUserStatesInReporting":true,"showTimeInState":true}
        {"command":"createUser","actor":"systemAdmin","occurredAt":"2026-11-20T08:02:00Z","tenant":"\(tenant)","user":"\(user)","upn":"anna@contoso.com","displayName":"Anna"}
        {"command":"recordPresence","actor":"presenceFeed:\(tenant)","occurredAt":"2026-11-20T09:00:00Z","user":"\(user)","availability":"Available"}
        {"command":"recordPresence","actor":"presenceFeed:\(tenant)","occurredAt":"2026-11-20T11:00:00Z","user":"\(user)","availability":"Busy"}
        {"command":"recordPresence","actor":"presenceFeed:\(tenant)","occurredAt":"2026-11-20T10:00:00Z","user":"\(user)","availability":"Away"}

        """

    func availability(_ extra: [String]) async throws -> String? {
        let result = try await cumulus(["state", "user", Self.user] + extra)
        #expect(result.status == 0, "\(extra): \(result.error)")
        let line = result.output.split(separator: "\n").first { $0.contains("\"availability\"") }
        return line.map { String($0).trimmingCharacters(in: .whitespaces) }
    }

    @Test func asOfAndValidAtAnswerDifferentQuestions() async throws {
        #expect(try await cumulus(["init"]).status == 0)
        let imported = try await cumulus(["import"], input: Self.history)
        #expect(imported.status == 0, "\(imported.error)")
        // Now: the latest by occurredAt.
        #expect(try await availability([]) == #""availability": "Busy","#)
        // What was true at 10:30, by everything known now: Away (the late event landed where it belongs).
        #expect(try await availability(["--valid-at", "2026-11-20T10:30:00Z"]) == #""availability": "Away","#)
        // The same question as the log stood before the late event arrived (position 10 is Busy: the tenant takes four events, the user three): Available.
        let beforeLate = try await availability(["--as-of", "10", "--valid-at", "2026-11-20T10:30:00Z"])
        #expect(beforeLate == #""availability": "Available","#)
        #expect(try await availability(["--as-of", "10"]) == #""availability": "Busy","#)
        // As of a recorded time inside the history: nothing was recorded then (it was imported later).
        let recorded = try await cumulus(["state", "user", Self.user, "--as-of", "2026-11-20T10:30:00Z"])
        #expect(recorded.status == 1 && recorded.error.contains("as of 2026-11-20T10:30:00Z"))
        // Current states at 10:30 of the source's clock: Away since 10:00, 1800 s; the same bytes every time.
        let arguments = [
            "report", "current-states", "--tenant", Self.tenant, "--actor", "userSupervisor:\(Self.tenant)",
            "--valid-at", "2026-11-20T10:30:00Z", "--format", "csv",
        ]
        let first = try await cumulus(arguments)
        #expect(first.status == 0, "\(first.error)")
        #expect(
            first.output.contains(",Away,PresenceUnknown,2026-11-20T10:00:00Z,1800,2026-11-20T10:30:00Z"),
            "\(first.output)")
        #expect(try await cumulus(arguments).output == first.output)
        // A window that reaches into the future counts time only up to now: Busy from 11:00 until the query,
        // not until the year 2999 (it was ~3e10 s).
        let ahead = try await cumulus([
            "report", "time-in-state", "--tenant", Self.tenant, "--actor", "userSupervisor:\(Self.tenant)",
            "--from", "2026-11-20T00:00:00Z", "--to", "2999-01-01T00:00:00Z", "--format", "csv",
        ])
        let after = Date().timeIntervalSince1970
        #expect(ahead.status == 0, "\(ahead.error)")
        let busy = ahead.output.split(separator: "\r\n").first { $0.contains(",availability,Busy,") }
        let seconds = try #require(busy.flatMap { Double($0.split(separator: ",")[5]) }, "\(ahead.output)")
        let sinceEleven = after - 1_795_172_400  // 2026-11-20T11:00:00Z
        #expect(
            seconds <= sinceEleven && seconds > sinceEleven - 600, "\(seconds) s Busy; \(sinceEleven) s since 11:00")
        let bad = try await cumulus(["state", "user", Self.user, "--valid-at", "yesterday"])
        #expect(bad.status == 1 && bad.error.contains("--valid-at 'yesterday' is not an ISO 8601 time"))
    }
}
