import CumulusDomain
import CumulusLog
import Foundation
import Testing

@testable import CumulusProjections

/// Renames, moves and profile changes in the views; rows at creation and at turn-on; open rows (domain.md §9).
@Suite struct UserChangeProjectionTests {
    static let support = OUID(id(5))

    /// Reporting on at 5; Anna created at 10 (nothing known), a state at 20, renamed at 30, moved at 40, a profile
    /// change alone at 50, the same profile again at 55 (nothing changes), a UPN change at 60.
    static func annasChanges() -> LogBuilder {
        var log = LogBuilder()
        log.append(World.creation(), at: minute(0))
        log.append(
            .ouCreated(OUCreated(ou: support, tenant: World.tenant, parent: World.root, name: "Support")), at: minute(0)
        )
        log.append(World.privacy(reporting: true), at: minute(5))
        log.append(World.user(World.anna, "Anna Muster", upn: "anna@contoso.com"), at: minute(10))
        log.append(World.state(World.anna, "Available", profile: "Sales"), at: minute(20))
        log.append(.userRenamed(UserRenamed(user: World.anna, displayName: PersonalData("Anna Meier"))), at: minute(30))
        log.append(.userMoved(UserMoved(user: World.anna, from: World.sales, to: support)), at: minute(40))
        log.append(
            .responsibilityProfileChanged(
                ResponsibilityProfileChanged(user: World.anna, responsibilityProfile: "Support")),
            at: minute(50))
        log.append(
            .responsibilityProfileChanged(
                ResponsibilityProfileChanged(user: World.anna, responsibilityProfile: "Support")),
            at: minute(55))
        log.append(
            .userPrincipalNameChanged(
                UserPrincipalNameChanged(user: World.anna, upn: PersonalData("anna.m@contoso.com"))),
            at: minute(60))
        return log
    }

    struct Row: Equatable {
        var name: String
        var ou: String
        var state: String?
        var profile: String?
        var start: Double
        var end: Double?
    }

    static func simplified(_ rows: [UserStateReportRow]) -> [Row] {
        rows.map {
            Row(
                name: $0.userName, ou: $0.ouName, state: $0.userState?.name, profile: $0.responsibilityProfile,
                start: Double($0.start.microsecondsSinceEpoch - base) / 60_000_000,
                end: $0.end.map { Double($0.microsecondsSinceEpoch - base) / 60_000_000 })
        }
    }

    @Test func renameMoveAndProfileChangeStartRowsAndCreationStartsTheFirst() throws {
        let set = try Self.annasChanges().rebuild()
        let report = try #require(set.projection(UserStateReportProjection.self))
        let rows = report.rows(user: World.anna)
        #expect(
            Self.simplified(rows) == [
                Row(name: "Anna Muster", ou: "Sales", state: nil, profile: nil, start: 10, end: 20),
                Row(name: "Anna Muster", ou: "Sales", state: "Available", profile: "Sales", start: 20, end: 30),
                Row(name: "Anna Meier", ou: "Sales", state: "Available", profile: "Sales", start: 30, end: 40),
                Row(name: "Anna Meier", ou: "Support", state: "Available", profile: "Sales", start: 40, end: 50),
                Row(name: "Anna Meier", ou: "Support", state: "Available", profile: "Support", start: 50, end: nil),
            ])
        #expect(rows.last?.durationSeconds == nil)
        #expect(rows.allSatisfy { $0.userPrincipalName == "anna.m@contoso.com" })
        // Current state shows the new values.
        let current = try #require(set.projection(CurrentStateProjection.self)?.users[World.anna])
        #expect(current.displayName.value == "Anna Meier" && current.ou == Self.support)
        #expect(current.userState == .custom("Available") && current.responsibilityProfile == "Support")
        #expect(current.upn.value == "anna.m@contoso.com")
        // Each change is an audit entry of the user.
        let audit = try #require(set.projection(AuditProjection.self)).entries(for: .user(World.anna))
        #expect(
            audit.map(\.eventType) == [
                "UserCreated", "UserRenamed", "UserMoved", "ResponsibilityProfileChanged",
                "ResponsibilityProfileChanged", "UserPrincipalNameChanged",
            ])
        #expect(audit[1].changes == [FieldChange(field: "displayName", old: "Anna Muster", new: "Anna Meier")])
        #expect(
            audit[2].changes == [FieldChange(field: "ou", old: World.sales.description, new: Self.support.description)])
        #expect(audit[3].changes == [FieldChange(field: "responsibilityProfile", old: nil, new: "Support")])
    }

    @Test func userChangesDoNotTouchTimeInStateAndAProfileAloneKeepsUserStateSince() throws {
        let set = try Self.annasChanges().rebuild()
        let times = try #require(set.projection(TimeInStateProjection.self))
        let snapshot = try #require(times.snapshot(of: World.anna, at: timestamp(70)))
        #expect(snapshot.userStateSince == timestamp(20))
        #expect(snapshot.state.responsibilityProfile == "Support")
        #expect(snapshot.userName == "Anna Meier")
        let summary = try #require(times.summary(of: World.anna, from: timestamp(0), to: timestamp(70)))
        #expect(summary.secondsPerUserState == ["Available": 50 * 60])
    }

    @Test func aLateRenameOrMoveLandsWhereItBelongs() throws {
        let inOrder = Self.annasChanges()
        var late = LogBuilder()
        // The rename (index 8) and the move (9) arrive after everything else.
        let order = inOrder.events.indices.filter { ![8, 9].contains($0) } + [9, 8]
        for index in order {
            let event = inOrder.events[index]
            late.append(
                try DomainEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload),
                at: event.occurredAt.microsecondsSinceEpoch)
        }
        #expect(late.events.map(\.type) != inOrder.events.map(\.type))
        let expected = try #require(try inOrder.rebuild().projection(UserStateReportProjection.self))
        let actual = try #require(try late.rebuild().projection(UserStateReportProjection.self))
        #expect(actual.rows() == expected.rows())
    }

    @Test func turningReportingOnOpensARowForEveryUserAndOpenRowsGiveTheSameBytesEveryTime() throws {
        var log = LogBuilder()
        log.append(World.creation(), at: minute(0))
        log.append(World.user(World.anna, "Anna Muster", upn: "anna@contoso.com"), at: minute(1))
        log.append(World.presence(World.anna, .busy, .inACall), at: minute(2))
        log.append(World.user(World.ben, "Ben Brun", upn: "ben@contoso.com"), at: minute(3))
        log.append(World.privacy(reporting: true), at: minute(10))
        let report = try #require(try log.rebuild().projection(UserStateReportProjection.self))
        let rows = report.rows(tenant: World.tenant)
        #expect(rows.map(\.userName) == ["Anna Muster", "Ben Brun"])
        #expect(rows.map(\.start) == [timestamp(10), timestamp(10)])
        #expect(rows[0].availability == .busy && rows[1].availability == nil)
        #expect(rows.allSatisfy { $0.end == nil && $0.durationSeconds == nil })
        let table = ReportTable.userStates(rows)
        #expect(table.json().contains("\"end\": null, \"durationSeconds\": null"))
        #expect(table.csv().hasSuffix(",2026-11-23T08:10:00Z,,\r\n"))
        // The same query later (wall clock moved on) and from a fresh rebuild: the same bytes in every format.
        let again = try #require(try log.rebuild().projection(UserStateReportProjection.self))
        let tableAgain = ReportTable.userStates(again.rows(tenant: World.tenant))
        #expect(tableAgain.json() == table.json())
        #expect(tableAgain.csv() == table.csv())
        #expect(tableAgain.textTable() == table.textTable())
    }
}
