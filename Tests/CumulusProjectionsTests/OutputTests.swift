import CumulusDomain
import CumulusLog
import Foundation
import Testing

@testable import CumulusProjections

@Suite struct OutputTests {
    @Test func csvFollowsRFC4180() {
        let table = ReportTable(
            columns: ["name", "note", "seconds"],
            rows: [
                [.text("Muster, Anna"), .text("said \"hi\""), .decimal(600)],
                [.text("plain"), .text("two\r\nlines"), .decimal(1.5)],
                [.text("lf\nonly"), .empty, .integer(-1)],
            ])
        #expect(
            table.csv()
                == "name,note,seconds\r\n\"Muster, Anna\",\"said \"\"hi\"\"\",600\r\nplain,two\\u{d}\\u{a}lines,1.5\r\n"
                + "lf\\u{a}only,,-1\r\n")  // control characters in cells are made visible (issue 14)
    }

    @Test func jsonKeepsNumbersAndEscapesText() {
        let table = ReportTable(columns: ["a", "b", "c"], rows: [[.text("x\"y\n"), .integer(2), .empty]])
        #expect(table.json() == "[\n  {\"a\": \"x\\\"y\\n\", \"b\": 2, \"c\": null}\n]\n")
        #expect(ReportTable(columns: ["a"], rows: []).json() == "[]\n")
    }

    @Test func textTableAlignsColumns() {
        let table = ReportTable(
            columns: ["kind", "used"], rows: [[.text("email"), .integer(5)], [.text("interact"), .integer(12)]])
        #expect(table.textTable() == "kind      used\n--------  ----\nemail        5\ninteract    12\n")
    }

    @Test func userStateRowsHaveTheReportColumns() throws {
        let report = try #require(
            try UserStateReportTests.annasDay().rebuild().projection(UserStateReportProjection.self))
        let table = ReportTable.userStates(report.rows())
        #expect(table.columns.count == 11)
        let csv = table.csv()
        #expect(csv.hasPrefix("tenant,userId,userName,organizationUnit,responsibilityProfile,userState,"))
        #expect(
            csv.contains(
                ",Anna Muster,Sales,Sales,Break,Busy,InACall,2026-11-23T08:40:00Z,2026-11-23T08:50:00Z,600\r\n"))
    }

    @Test func partnersSeePlaceholdersOfTheSameLengthUnlessAllowed() throws {
        let report = try #require(
            try UserStateReportTests.annasDay().rebuild().projection(UserStateReportProjection.self))
        let row = try #require(report.rows().first)
        let partner = Actor.partnerAdmin(World.partner)
        let hidden = PartnerView(reader: partner, privacy: DataPrivacySettings())
        #expect(hidden.apply(to: row).userName == "***********")
        #expect(hidden.apply(to: row).userPrincipalName == "****************")
        #expect(hidden.customerIdentifier("+41315550100") == "************")
        let allowed = PartnerView(
            reader: partner,
            privacy: DataPrivacySettings(allowPartnerSeeUserIdentifiers: true, allowPartnerSeeCustomerIdentifiers: true)
        )
        #expect(allowed.apply(to: row).userName == "Anna Muster")
        #expect(allowed.customerIdentifier("+41315550100") == "+41315550100")
        let supervisor = PartnerView(reader: .userSupervisor(World.tenant), privacy: DataPrivacySettings())
        #expect(supervisor.apply(to: row) == row)
    }

    @Test func svgHasABarPerUserAndALegendEntryPerState() throws {
        var log = UserStateReportTests.annasDay()
        log.append(World.state(World.ben, "ACW"), at: minute(12))
        log.append(World.presence(World.ben, .away, .away), at: minute(13))
        let projection = try #require(try log.rebuild().projection(TimeInStateProjection.self))
        let summaries = projection.summaries(tenant: World.tenant, from: timestamp(0), to: timestamp(60))
        #expect(summaries.map(\.userName) == ["Anna Muster", "Ben Brun"])
        let chart = TimeInStateChart(summaries: summaries, dimension: .availability)
        let svg = chart.svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.components(separatedBy: "<g class=\"bar\"").count - 1 == 2)
        #expect(chart.states == ["Away", "Available", "Busy"])  // longest total first: Ben 47m away
        for state in chart.states {
            #expect(svg.contains("<g class=\"legend\"") && svg.contains(">\(state)</text></g>"))
        }
        #expect(svg.components(separatedBy: "<g class=\"legend\"").count - 1 == 3)
        #expect(svg.contains("Ben Brun: Away 47m 0s"))
        let userStates = TimeInStateChart(summaries: summaries).svg()
        #expect(userStates.contains(">ACW</text></g>") && userStates.contains(">Break</text></g>"))
    }
}

@Suite struct CSVSafetyTests {
    @Test func formulaCellsAreDefusedAndNumbersKept() {
        let table = ReportTable(
            columns: ["name", "available"],
            rows: [
                [.text("=HYPERLINK(\"http://x\")"), .integer(-4)], [.text("+41 44"), .decimal(-1.5)],
                [.text("-x"), .empty], [.text("@SUM(A1)"), .integer(0)], [.text("Chloé, \"B\""), .integer(1)],
            ])
        let csv = table.csv()
        #expect(
            csv
                == "name,available\r\n\"'=HYPERLINK(\"\"http://x\"\")\",-4\r\n\"'+41 44\",-1.5\r\n\"'-x\",\r\n"
                + "\"'@SUM(A1)\",0\r\n\"Chloé, \"\"B\"\"\",1\r\n")
        #expect(csv.hasSuffix("1\r\n") && !csv.hasSuffix("\r\n\r\n") && !csv.hasSuffix("\n\n"))
    }
}

@Suite struct ChartLayoutTests {
    @Test func htmlDeclaresUTF8AndTheChartPutsLegendAndAxisFirst() throws {
        var log = UserStateReportTests.annasDay()
        log.append(World.state(World.ben, "ACW"), at: minute(12))
        log.append(World.presence(World.ben, .away, .away), at: minute(13))
        let projection = try #require(try log.rebuild().projection(TimeInStateProjection.self))
        let summaries = projection.summaries(tenant: World.tenant, from: timestamp(0), to: timestamp(60 * 24))
        let chart = TimeInStateChart(summaries: summaries, dimension: .both, title: "Time in state, Chloé & Co")
        let html = chart.html()
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"))
        #expect(html.contains("<title>Time in state, Chloé &amp; Co</title>"))
        let svg = chart.svg()
        // Units named; ticks in hours at a round step (a day: every 3 hours, 0 h to 24 h).
        #expect(svg.contains("Hours in each user state and presence availability"))
        #expect(svg.contains(">0 h</text>") && svg.contains(">3 h</text>") && svg.contains(">24 h</text>"))
        #expect(!svg.contains(">4.8 h</text>"))
        // Legend (both dimensions) and the axis come before the first bar.
        let firstBar = try #require(svg.range(of: "<g class=\"bar\""))
        let userLegend = try #require(svg.range(of: "data-dimension=\"userState\""))
        let presenceLegend = try #require(svg.range(of: "data-dimension=\"availability\""))
        let axis = try #require(svg.range(of: ">0 h</text>"))
        #expect(userLegend.lowerBound < firstBar.lowerBound && presenceLegend.lowerBound < firstBar.lowerBound)
        #expect(axis.lowerBound < firstBar.lowerBound)
        // Presence is drawn too: Ben's away time and his ACW.
        #expect(svg.contains("Ben Brun: Away ") && svg.contains("Ben Brun: ACW "))
        #expect(svg.components(separatedBy: "<g class=\"bar\"").count - 1 == 2)
    }
}
