import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

@testable import CumulusProjections

/// A presence change two days late, landing between repeats the in-memory history dropped long ago: the
/// catch-up reads that user's stream from the log and places it exactly.
@Suite("Far-late events on the log")
struct FarLateCatchUpTests {
    let start: Int64 = 1_794_787_200_000_000
    let hour: Int64 = 3_600_000_000

    @Test func aPresenceTwoDaysLateRunsOnlyToTheNextRepeat() async throws {
        let log = try TemporaryEventLog(durability: .deferred)
        let handler = CommandHandler(store: log.store)
        let tenant = TenantID(UUID())
        let user = UserID(UUID())
        func at(_ command: Command, _ actor: Actor = .systemAdmin, _ time: Int64) -> CommandRequest {
            CommandRequest(command: command, actor: actor, occurredAt: time)
        }
        var requests = [
            at(
                .createTenant(
                    tenant: tenant, name: "Contoso", o365Domain: "contoso.onmicrosoft.com",
                    azureTenantID: UUID().uuidString, partner: nil, rootOU: OUID(UUID()), rootOUName: "Root",
                    widgetKey: UUID()), .systemAdmin, start),
            at(
                .changeDataPrivacySettings(
                    tenant: tenant,
                    settings: DataPrivacySettings(persistUserStatesInReporting: true, showTimeInState: true)),
                .systemAdmin, start),
            at(
                .createUser(tenant: tenant, user: user, upn: "a@contoso.com", displayName: "A", ou: nil), .systemAdmin,
                start),
        ]
        // Available, repeated every two hours for four days: far more repeats than the history keeps.
        for step in 0..<48 {
            requests.append(
                at(
                    .recordPresence(user: user, availability: .available, activity: nil), .presenceFeed(tenant),
                    start + Int64(step) * 2 * hour))
        }
        // Away at day 1 + 1 h, arriving after everything else: in order it lasts one hour, to the next repeat.
        requests.append(
            at(
                .recordPresence(user: user, availability: .away, activity: nil), .presenceFeed(tenant),
                start + 25 * hour))
        for result in try await handler.handle(batch: requests) { _ = try result.get() }

        var set = ProjectionSet.standard()
        _ = try await ProjectionCatchUp.run(&set, from: log.store)
        #expect(set.usersNeedingHistory.isEmpty)
        let times = try #require(set.projection(TimeInStateProjection.self))
        let summary = try #require(
            times.summary(
                of: user, from: Timestamp(microsecondsSinceEpoch: start),
                to: Timestamp(microsecondsSinceEpoch: start + 96 * hour)))
        #expect(summary.secondsPerAvailability["Away"] == 3_600)
        let report = try #require(set.projection(UserStateReportProjection.self))
        let away = report.rows(user: user).filter { $0.availability == .away }
        #expect(away.map(\.durationSeconds) == [3_600])
        // The user's history is bounded again after the rebuild: old repeats were dropped once more.
        #expect((times.timeline(of: user)?.entries.count ?? 0) < 49)
    }
}
