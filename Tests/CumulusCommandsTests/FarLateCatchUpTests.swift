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

    func at(_ command: Command, _ actor: Actor = .systemAdmin, _ time: Int64) -> CommandRequest {
        CommandRequest(command: command, actor: actor, occurredAt: time)
    }

    /// A tenant that keeps user states in reporting and shows time in state, and its `users`, created at `start`.
    func setUp(_ tenant: TenantID, users: [UserID]) -> [CommandRequest] {
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
        ]
        for (index, user) in users.enumerated() {
            requests.append(
                at(
                    .createUser(
                        tenant: tenant, user: user, upn: "u\(index)@contoso.com", displayName: "U\(index)", ou: nil),
                    .systemAdmin, start))
        }
        return requests
    }

    @Test func aPresenceTwoDaysLateRunsOnlyToTheNextRepeat() async throws {
        let log = try TemporaryEventLog(durability: .deferred)
        let handler = CommandHandler(store: log.store)
        let tenant = TenantID(UUID())
        let user = UserID(UUID())
        var requests = setUp(tenant, users: [user])
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

    /// Far-late events in the middle of a log long enough to pipeline over many read transactions: the lanes
    /// find them while the reader is ahead, the catch-up drains the pipeline, rebuilds those users from the log,
    /// and starts it again. The views are those of the same commands arriving in order, as on one thread.
    @Test func farLateEventsMidLogThroughThePipelineGiveTheInOrderViews() async throws {
        let tenant = TenantID(UUID())
        let users = (0..<6).map { _ in UserID(UUID()) }
        let setup = setUp(tenant, users: users)
        // Every user Available every 15 minutes for eight days (4,608 feed events), in time order; after hour 60 +
        // 5 h per user, that user's Away of hour 25 + the user's index arrives, 35–55 hours late, and the last
        // user's after everything else: the pipeline starts again after the drain, and the last one is found
        // only when it is drained at the end.
        var feed: [(time: Int64, request: CommandRequest)] = []
        for step in 0..<768 {
            let time = start + Int64(step) * hour / 4
            for user in users {
                feed.append(
                    (
                        time,
                        at(
                            .recordPresence(user: user, availability: .available, activity: nil), .presenceFeed(tenant),
                            time)
                    ))
            }
        }
        var arrival = feed.map(\.request)
        for (index, user) in users.enumerated().reversed() {
            let late = at(
                .recordPresence(user: user, availability: .away, activity: nil), .presenceFeed(tenant),
                start + Int64(25 + index) * hour + hour / 8)
            feed.append((late.occurredAt, late))
            arrival.insert(late, at: index == users.count - 1 ? arrival.count : (60 + 5 * index) * 4 * users.count)
        }
        let inOrder = feed.sorted { $0.time < $1.time }.map(\.request)

        func log(of requests: [CommandRequest]) async throws -> TemporaryEventLog {
            let log = try TemporaryEventLog(durability: .deferred)
            let handler = CommandHandler(store: log.store)
            for result in try await handler.handle(batch: setup + requests) { _ = try result.get() }
            return log
        }
        let late = try await log(of: arrival)
        let ordered = try await log(of: inOrder)
        var piped = ProjectionSet.standard()
        piped.lanes = 2
        _ = try await ProjectionCatchUp.run(&piped, from: late.store, batchSize: 300)
        var single = ProjectionSet.standard()
        single.lanes = 1
        _ = try await ProjectionCatchUp.run(&single, from: late.store, batchSize: 300)
        var reference = ProjectionSet.standard()
        reference.lanes = 1
        _ = try await ProjectionCatchUp.run(&reference, from: ordered.store)
        #expect(piped.usersNeedingHistory.isEmpty && piped.positions == single.positions)

        let window = (Timestamp(microsecondsSinceEpoch: start), Timestamp(microsecondsSinceEpoch: start + 192 * hour))
        for set in [piped, single] {
            let times = try #require(set.projection(TimeInStateProjection.self))
            let expectedTimes = try #require(reference.projection(TimeInStateProjection.self))
            let report = try #require(set.projection(UserStateReportProjection.self))
            let expectedReport = try #require(reference.projection(UserStateReportProjection.self))
            for user in users {
                let summary = try #require(times.summary(of: user, from: window.0, to: window.1))
                #expect(summary.secondsPerAvailability["Away"] == 450)
                #expect(summary == expectedTimes.summary(of: user, from: window.0, to: window.1))
                let rows = report.rows(user: user)
                #expect(rows.filter { $0.availability == .away }.map(\.durationSeconds) == [450])
                #expect(rows == expectedReport.rows(user: user))
            }
        }
    }
}
