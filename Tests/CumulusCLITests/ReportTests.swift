import CumulusTesting
import Foundation
import Testing

/// `rebuild`, `state`, `audit` and `report` against a small demo world, through the built binary.
@Suite("Projections from the command line", .serialized)
struct ReportTests {
    /// One small demo world shared by the suite (building it takes a few seconds in debug mode).
    struct DemoWorld: Sendable {
        let path: String
        let tenants: [String]
    }

    /// Builds the world once, however many tests ask for it at the same time.
    actor WorldCache {
        private var world: DemoWorld?

        func get() async throws -> DemoWorld {
            if let world { return world }
            let path = TemporaryDirectory.removedAtExit(prefix: "cumulus-report")
            let result = try await ChildProcess.run(
                "cumulus",
                ["demo", "--data-dir", path, "--tenants", "2", "--users-per-tenant", "25", "--days", "2", "--no-serve"])
            let tenants = result.output.split(separator: "\n").compactMap { line -> String? in
                guard let range = line.range(of: ", id ") else { return nil }
                return String(line[range.upperBound...].dropLast())
            }
            let built = DemoWorld(path: path, tenants: tenants)
            world = built
            return built
        }
    }

    static let cache = WorldCache()

    func cumulus(_ arguments: [String]) async throws -> (status: Int32, output: String, error: String) {
        let world = try await Self.cache.get()
        return try await ChildProcess.run("cumulus", arguments + ["--data-dir", world.path])
    }

    /// Contoso (tenant 0 of the demo) shows time in state and lets partners see names; Fabrikam (tenant 1)
    /// has both switched off.
    func tenants() async throws -> (contoso: String, fabrikam: String) {
        let tenants = try await Self.cache.get().tenants
        try #require(tenants.count == 2, "the demo printed \(tenants)")
        return (tenants[0], tenants[1])
    }

    @Test func rebuildResumesFromCheckpointsAndRebuildsOnRequest() async throws {
        let resumed = try await cumulus(["rebuild"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("current-state: resumed after position"))
        let rebuilt = try await cumulus(["rebuild", "licence-counters"])
        #expect(rebuilt.output.contains("licence-counters: rebuilt from position 0"))
        #expect(rebuilt.output.contains("current-state: resumed after position"))
        // Standard error is a pipe here, not a terminal: no progress line.
        #expect(rebuilt.error.isEmpty, "progress written to a pipe: \(rebuilt.error)")
        let unknown = try await cumulus(["rebuild", "nonsense"])
        #expect(unknown.status == 1 && unknown.error.contains("unknown projection 'nonsense'"))
    }

    @Test func licenceCountersShowOverageAsNegative() async throws {
        let contoso = try await tenants().contoso
        let report = try await cumulus(["report", "licences", "--tenant", contoso, "--format", "csv"])
        #expect(report.status == 0, "\(report.error)")
        let lines = report.output.split(separator: "\r\n")
        #expect(lines.first == "tenant,kind,contingent,used,available")
        // 25 users, a third with transcription (9), contingent cut to 25 / 5 = 5: available -4.
        #expect(lines.contains { $0.hasSuffix(",transcription,5,9,-4") }, "\(report.output)")
    }

    @Test func theUserStateReportNeedsAUserSupervisor() async throws {
        let contoso = try await tenants().contoso
        let refused = try await cumulus(["report", "user-states", "--tenant", contoso])
        #expect(refused.status == 1 && refused.error.contains("permission denied: systemAdmin"))
        let allowed = try await cumulus([
            "report", "user-states", "--tenant", contoso, "--actor", "userSupervisor:\(contoso)", "--format", "csv",
        ])
        #expect(allowed.status == 0, "\(allowed.error)")
        let lines = allowed.output.split(separator: "\r\n")
        #expect(lines.first?.hasPrefix("tenant,userId,userName,organizationUnit") == true)
        #expect(lines.count > 100)
    }

    @Test func aPartnerSeesPlaceholdersUnlessTheTenantAllowsIdentifiers() async throws {
        let (contoso, other) = try await tenants()
        let state = try await cumulus(["state", "tenant", contoso])
        let partner = try #require(
            state.output.split(separator: "\n").first { $0.contains("\"partner\"") }?
                .split(separator: "\"").dropLast().last.map(String.init))
        let report = try await cumulus([
            "report", "user-states", "--tenant", contoso, "--actor", "partnerAdmin:\(partner)", "--format", "csv",
        ])
        #expect(report.status == 0, "\(report.error)")
        // Contoso allows partners to see user identifiers in the demo (tenant 0); names are in clear.
        let row = try #require(report.output.split(separator: "\r\n").dropFirst().first)
        #expect(!row.split(separator: ",")[2].allSatisfy { $0 == "*" })
        let otherState = try await cumulus(["state", "tenant", other])
        let otherPartner = try #require(
            otherState.output.split(separator: "\n").first { $0.contains("\"partner\"") }?
                .split(separator: "\"").dropLast().last.map(String.init))
        let masked = try await cumulus([
            "report", "user-states", "--tenant", other, "--actor", "partnerAdmin:\(otherPartner)", "--format", "csv",
        ])
        let maskedRow = try #require(masked.output.split(separator: "\r\n").dropFirst().first)
        let name = maskedRow.split(separator: ",")[2]
        #expect(!name.isEmpty && name.allSatisfy { $0 == "*" }, "\(maskedRow)")
        let wrongPartner = try await cumulus([
            "report", "user-states", "--tenant", other, "--actor", "partnerAdmin:\(UUID().uuidString.lowercased())",
        ])
        #expect(wrongPartner.status == 1 && wrongPartner.error.contains("permission denied"))
    }

    @Test func timeInStateIsRefusedWhileTheTenantsSwitchIsOff() async throws {
        let (contoso, other) = try await tenants()
        let refused = try await cumulus([
            "report", "time-in-state", "--tenant", other, "--actor", "userSupervisor:\(other)",
        ])
        #expect(refused.status == 1 && refused.error.lowercased().contains("time in state"), "\(refused.error)")
        let chart = try await cumulus([
            "report", "time-in-state", "--tenant", contoso, "--actor", "userSupervisor:\(contoso)",
            "--from", "2026-11-16T00:00:00Z", "--to", "2026-11-18T00:00:00Z", "--format", "svg",
        ])
        #expect(chart.status == 0, "\(chart.error)")
        #expect(chart.output.hasPrefix("<svg") && chart.output.contains("Available") && chart.output.contains("ACW"))
        let table = try await cumulus([
            "report", "time-in-state", "--tenant", contoso, "--actor", "userSupervisor:\(contoso)",
            "--from", "2026-11-16T00:00:00Z", "--to", "2026-11-18T00:00:00Z", "--format", "json",
        ])
        #expect(table.status == 0 && table.output.contains("\"seconds\""))
        let current = try await cumulus([
            "report", "current-states", "--tenant", contoso, "--actor", "userSupervisor:\(contoso)",
            "--to", "2026-11-16T12:00:00Z", "--format", "csv",
        ])
        #expect(current.status == 0, "\(current.error)")
        let rows = current.output.split(separator: "\r\n")
        #expect(
            rows.first?.hasPrefix("userId,userName,userState,responsibilityProfile,userStateSince,userStateSeconds")
                == true)
        // At noon on Monday everyone is on shift: a user state, since when, and how long.
        let fields = try #require(rows.dropFirst().first?.split(separator: ",", omittingEmptySubsequences: false))
        #expect(fields.count == 11 && !fields[2].isEmpty && (Double(fields[5]) ?? -1) >= 0, "\(fields)")
        #expect(fields[10] == "2026-11-16T12:00:00Z")
        let switchedOff = try await cumulus([
            "report", "current-states", "--tenant", other, "--actor", "userSupervisor:\(other)",
        ])
        #expect(switchedOff.status == 1)
    }

    @Test func stateAndAuditAsOfAPosition() async throws {
        let contoso = try await tenants().contoso
        let now = try await cumulus(["state", "tenant", contoso])
        #expect(now.status == 0 && now.output.contains("\"state\": \"active\""), "\(now.output.prefix(400))")
        let early = try await cumulus(["state", "tenant", contoso, "--as-of", "1"])
        #expect(early.status == 0 && early.output.contains("\"state\": \"trial\""), "\(early.output.prefix(400))")
        let before = try await cumulus(["state", "tenant", contoso, "--as-of", "0"])
        #expect(before.status == 1 && before.error.contains("as of 0"))
        // A position the log has not reached is refused: the view as of it would change as the log grows.
        let beyond = try await cumulus(["state", "tenant", contoso, "--as-of", "99999999"])
        #expect(beyond.status == 1 && beyond.output.isEmpty, "\(beyond.output.prefix(400))")
        let marker = "past the end of the log (its last position is "
        let head = try #require(
            beyond.error.range(of: marker).flatMap { UInt64(beyond.error[$0.upperBound...].prefix { $0.isNumber }) },
            "\(beyond.error)")
        let atHead = try await cumulus(["state", "tenant", contoso, "--as-of", String(head)])
        #expect(atHead.status == 0 && atHead.output == now.output, "\(atHead.error)")
        let pastHead = try await cumulus(["state", "tenant", contoso, "--as-of", String(head + 1)])
        #expect(pastHead.status == 1 && pastHead.error.contains("--as-of \(head + 1) is past the end"))
        let audit = try await cumulus(["audit", "tenant", contoso, "--format", "csv"])
        #expect(audit.status == 0, "\(audit.error)")
        #expect(
            audit.output.contains("TenantStateChanged") && audit.output.contains("trial")
                && audit.output.contains("active"))
        let denied = try await cumulus(["audit", "tenant", contoso, "--actor", "guest"])
        #expect(denied.status == 1 && denied.error.contains("permission denied: guest"))
    }

    @Test func progressIsDrawnOnATerminal() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        let world = try await Self.cache.get()
        let binary = ChildProcess.buildDirectory.appendingPathComponent("cumulus").path
        // `script` gives the command a pseudo-terminal, as a person at a shell would have.
        let run = try await ChildProcess.runExecutable(
            "/usr/bin/script", ["-qec", "\(binary) rebuild --all --data-dir \(world.path)", "/dev/null"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("rebuilding: ") && run.output.contains("events/s"), "\(run.output)")
        #expect(run.output.contains("\u{1B}[K"), "the line is redrawn in place")
    }
}
