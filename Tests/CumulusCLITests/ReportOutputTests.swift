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

    /// The demo's "Next:" line names the demo's data directory and window; run as printed, it charts that week.
    @Test func theDemosNextLineChartsTheDemosOwnWeek() async throws {
        let world = try await Self.cache.get()
        let demo = try await ChildProcess.run(
            "cumulus",
            [
                "demo", "--data-dir", world.path, "--tenants", "2", "--users-per-tenant", "25", "--days", "2",
                "--no-serve",
            ])
        #expect(demo.status == 0, "\(demo.error)")
        let line = try #require(demo.output.split(separator: "\n").first { $0.hasPrefix("Next: cumulus ") })
        let directory = URL(fileURLWithPath: world.path).lastPathComponent
        #expect(line.contains("--data-dir /") && line.contains("/\(directory) --tenant "), "\(line)")
        #expect(line.contains("--from 2026-11-16T00:00:00Z --to 2026-11-18T00:00:00Z"), "\(line)")
        #expect(line.hasSuffix("--format html > week.html"))
        let words = line.dropFirst("Next: cumulus ".count).split(separator: " ").map(String.init)
        let arguments = Array(words.prefix { $0 != ">" })
        let chart = try await ChildProcess.run("cumulus", arguments)
        #expect(chart.status == 0, "\(chart.error)")
        #expect(chart.output.contains("<meta charset=\"utf-8\">"))
        #expect(chart.output.contains("data-dimension=\"availability\""))
        #expect(chart.output.contains(": Available ") && chart.output.contains(": ACW "))
    }

    /// `state` writes the import format's field names and lists an OU's users by name (masked for a partner
    /// whose tenant hides user identifiers).
    @Test func stateUsesTheImportFieldNamesAndListsAnOUsUsers() async throws {
        let (contoso, fabrikam) = try await tenants()
        let tenant = try await cumulus(["state", "tenant", contoso])
        #expect(tenant.status == 0, "\(tenant.error)")
        #expect(tenant.output.contains("\"azureTenantId\": \"") && !tenant.output.contains("azureTenantID"))
        #expect(tenant.output.contains("\"crmId\"") && tenant.output.contains("\"timeZone\": \"UTC\""))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(tenant.output.utf8)) as? [String: Any])
        let units = try #require(object["organisationUnits"] as? [[String: Any]])
        var listed = 0
        for unit in units {
            let ou = try #require(unit["ou"] as? String)
            let state = try await cumulus(["state", "ou", ou])
            #expect(state.status == 0, "\(state.error)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(state.output.utf8)) as? [String: Any])
            let users = try #require(json["users"] as? [[String: Any]])
            for user in users {
                #expect((user["displayName"] as? String)?.isEmpty == false && user["user"] is String)
                listed += 1
            }
        }
        #expect(listed == 25, "\(listed) users listed in Contoso's OUs")
        // Fabrikam hides user identifiers from partners: a partner sees placeholders.
        let fabrikamState = try await cumulus(["state", "tenant", fabrikam])
        let fabrikamObject = try #require(
            try JSONSerialization.jsonObject(with: Data(fabrikamState.output.utf8)) as? [String: Any])
        let partner = try #require(fabrikamObject["partner"] as? String)
        for unit in try #require(fabrikamObject["organisationUnits"] as? [[String: Any]]) {
            let ou = try #require(unit["ou"] as? String)
            let masked = try await cumulus(["state", "ou", ou, "--actor", "partnerAdmin:\(partner)"])
            #expect(masked.status == 0, "\(masked.error)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(masked.output.utf8)) as? [String: Any])
            for user in try #require(json["users"] as? [[String: Any]]) {
                #expect((user["displayName"] as? String)?.allSatisfy { $0 == "*" } == true)
            }
        }
    }

    /// `cumulus odata` answers as the server would: next links followed to the end, a tampered one refused.
    @Test func odataFromTheCommandLineFollowsItsOwnPageLinks() async throws {
        let contoso = try await tenants().contoso
        let base = "http://localhost:8080/odata/"
        var resource = "Users?$select=UserId,UserName&$count=true"
        var ids: [String] = []
        var pages = 0
        while true {
            let page = try await cumulus([
                "odata", "--actor", "userSupervisor:\(contoso)", "--page-size", "10", "--base-url", base, resource,
            ])
            #expect(page.status == 0, "\(page.error) \(page.output)")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(page.output.utf8)) as? [String: Any])
            #expect(body["@odata.count"] as? Int == 25)
            ids += try #require(body["value"] as? [[String: Any]]).compactMap { $0["UserId"] as? String }
            pages += 1
            guard let next = body["@odata.nextLink"] as? String else { break }
            resource = String(next.dropFirst(base.count))
            if pages > 5 { break }
        }
        #expect(pages == 3 && ids.count == 25 && Set(ids).count == 25)
        let tampered = try await cumulus([
            "odata", "--actor", "userSupervisor:\(contoso)", "Users?$skiptoken=djF8VXNlcnN8MXwxfDEwfHg.AAAA",
        ])
        #expect(tampered.status == 1 && tampered.output.contains("BadSkipToken"))
    }
}
