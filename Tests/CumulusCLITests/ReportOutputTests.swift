import CumulusTesting
import Foundation
import Testing

extension ReportTests {
    @Test func csvEndsWithExactlyOneCRLF() async throws {
        let contoso = try await tenants().contoso
        for arguments in [
            ["report", "licences", "--tenant", contoso],
            ["report", "user-states", "--tenant", contoso, "--actor", "userSupervisor:\(contoso)"],
        ] {
            let result = try await cumulus(arguments + ["--format", "csv"])
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output.hasSuffix("\r\n") && !result.output.hasSuffix("\r\n\n"), "\(arguments)")
            // Every line ends with CR LF: no bare LF anywhere.
            let bytes = Array(result.output.utf8)
            for index in bytes.indices where bytes[index] == 10 { #expect(index > 0 && bytes[index - 1] == 13) }
        }
    }

    @Test func formatsAReportCannotProduceAreRefused() async throws {
        let contoso = try await tenants().contoso
        for (kind, format) in [("licences", "svg"), ("user-states", "html"), ("current-states", "svg")] {
            let result = try await cumulus([
                "report", kind, "--tenant", contoso, "--actor", "userSupervisor:\(contoso)", "--format", format,
            ])
            #expect(result.status == 1, "\(kind) \(format): \(result.output)")
            #expect(result.error.contains("--format \(format) is not available for \(kind); use table, csv or json"))
            #expect(result.output.isEmpty)
        }
        let interval = try await cumulus([
            "report", "time-in-state", "--tenant", contoso, "--actor", "userSupervisor:\(contoso)", "--interval", "1h",
            "--format", "svg",
        ])
        #expect(interval.status == 1 && interval.error.contains("use table, csv or json"))
        let badInterval = try await cumulus([
            "report", "time-in-state", "--tenant", contoso, "--actor", "userSupervisor:\(contoso)", "--interval", "2h",
        ])
        #expect(badInterval.status == 1 && badInterval.error.contains("15m, 30m, 1h, 1d"))
    }

    /// Hourly rows of a day: every user's rows of one hour add up to 3,600 s (the demo's users live the whole day).
    @Test func timeInStateByIntervalFillsEachInterval() async throws {
        let contoso = try await tenants().contoso
        let result = try await cumulus([
            "report", "time-in-state", "--tenant", contoso, "--actor", "userSupervisor:\(contoso)", "--interval", "1h",
            "--from", "2026-11-16T00:00:00Z", "--to", "2026-11-17T00:00:00Z", "--format", "csv",
        ])
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\r\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        #expect(
            lines.first?.joined(separator: ",")
                == "tenant,userId,userName,interval,intervalStart,intervalStartLocal,intervalEnd,userState,presenceAvailability,seconds"
        )
        var perUserHour: [String: Double] = [:]
        for fields in lines.dropFirst() {
            perUserHour["\(fields[1]) \(fields[4])", default: 0] += Double(fields[9]) ?? -1
        }
        #expect(perUserHour.count == 25 * 24, "\(perUserHour.count)")
        #expect(perUserHour.values.allSatisfy { abs($0 - 3_600) < 0.001 })
    }
}
