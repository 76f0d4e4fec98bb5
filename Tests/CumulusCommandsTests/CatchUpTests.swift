import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusProjections
import CumulusTesting
import Foundation
import Testing

/// Projections on a real log: catching up from a checkpoint at a random split point gives exactly the
/// views of a full rebuild, and a projection whose code version changed is rebuilt by itself.
@Suite("Projection catch-up on the log")
struct CatchUpTests {

    /// A tenant with reporting on, a few users, and a noisy feed: late events, repeats, a reporting toggle.
    func makeLog(seed: UInt64, steps: Int = 400) async throws -> (TemporaryEventLog, TenantID) {
        var random = SplitMix64(seed: seed)
        let log = try TemporaryEventLog(durability: .deferred)
        let handler = CommandHandler(store: log.store)
        let tenant = TenantID(UUID())
        let start: Int64 = 1_794_787_200_000_000
        func at(_ command: Command, _ actor: Actor = .systemAdmin, _ time: Int64 = start) -> CommandRequest {
            CommandRequest(command: command, actor: actor, occurredAt: time)
        }
        var setup = [
            at(
                .createTenant(
                    tenant: tenant, name: "Contoso", o365Domain: "contoso.onmicrosoft.com",
                    azureTenantID: UUID().uuidString,
                    partner: nil, rootOU: OUID(UUID()), rootOUName: "Root", widgetKey: UUID())),
            at(
                .changeDataPrivacySettings(
                    tenant: tenant,
                    settings: DataPrivacySettings(persistUserStatesInReporting: true, showTimeInState: true))),
            at(.setLicenceContingent(tenant: tenant, kind: .transcription, contingent: 3)),
        ]
        let users = (0..<4).map { _ in UserID(UUID()) }
        for (index, user) in users.enumerated() {
            setup.append(
                at(
                    .createUser(
                        tenant: tenant, user: user, upn: "u\(index)@contoso.com", displayName: "U\(index)", ou: nil)))
            if index < 3 { setup.append(at(.assignUserLicence(user: user, kind: .transcription))) }
        }
        setup.append(at(.setLicenceContingent(tenant: tenant, kind: .transcription, contingent: 1)))
        _ = try await handler.handle(batch: setup)
        var feed: [CommandRequest] = []
        let availabilities: [Availability] = [.available, .busy, .away, .offline, .doNotDisturb]
        for step in 0..<steps {
            let user = users[Int(random.next() % 4)]
            // Mostly in order, sometimes up to an hour late.
            let late = random.next() % 10 == 0 ? Int64(random.next() % 3_600) * 1_000_000 : 0
            let time = start + Int64(step) * 60_000_000 - late
            if random.next() % 3 == 0 {
                let state = ["Available", "Break", "ACW"][Int(random.next() % 3)]
                feed.append(
                    at(.changeUserState(user: user, state: state, responsibilityProfile: nil), .user(user), time))
            } else {
                let availability = availabilities[Int(random.next() % UInt64(availabilities.count))]
                feed.append(
                    at(
                        .recordPresence(user: user, availability: availability, activity: nil), .presenceFeed(tenant),
                        time))
            }
            if step == 150 || step == 250 {
                let on = step == 250
                feed.append(
                    at(
                        .changeDataPrivacySettings(
                            tenant: tenant,
                            settings: DataPrivacySettings(persistUserStatesInReporting: on, showTimeInState: true)),
                        .tenantAdmin(tenant), start + Int64(step) * 60_000_000))
            }
        }
        let results = try await handler.handle(batch: feed)
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        return (log, tenant)
    }

    /// Everything a reader can see, in a stable order.
    struct Views: Equatable {
        var counters: [LicenceCounter]
        var rows: [UserStateReportRow]
        var summaries: [TimeInStateSummary]
        var users: [String]
    }

    func views(_ set: ProjectionSet, tenant: TenantID) throws -> Views {
        let counters = try #require(set.projection(LicenceCountersProjection.self))
        let report = try #require(set.projection(UserStateReportProjection.self))
        let times = try #require(set.projection(TimeInStateProjection.self))
        let current = try #require(set.projection(CurrentStateProjection.self))
        let until = Timestamp(microsecondsSinceEpoch: 1_794_787_200_000_000 + 500 * 60_000_000)
        let from = Timestamp(microsecondsSinceEpoch: 1_794_787_200_000_000)
        // Listing order follows dictionary order, which differs between equal states: sort first.
        return Views(
            counters: counters.counters(for: tenant).sorted { "\($0.kind)" < "\($1.kind)" },
            rows: report.rows(tenant: tenant).sorted {
                ($0.user, $0.start) < ($1.user, $1.start)
            },
            summaries: times.summaries(tenant: tenant, from: from, to: until).sorted { $0.user < $1.user },
            users: current.users.values.sorted { $0.id < $1.id }.map {
                "\($0.id) \(String(describing: $0.availability)) \($0.userState.map { "\($0)" } ?? "-")"
            }
        )
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func checkpointThenCatchUpEqualsAFullRebuild(seed: UInt64) async throws {
        let (log, tenant) = try await makeLog(seed: seed)
        var full = ProjectionSet.standard()
        _ = try await ProjectionCatchUp.run(&full, from: log.store, rebuilding: Set(full.projections.map(\.name)))
        let last = try await log.store.lastPosition().rawValue
        var random = SplitMix64(seed: seed &* 31)
        for _ in 0..<3 {
            let split = GlobalPosition(1 + random.next() % last)
            var partial = ProjectionSet.standard()
            _ = try await ProjectionCatchUp.run(&partial, from: log.store, asOf: .position(split))
            #expect(partial.position == split)
            var resumed = ProjectionSet.standard()
            for checkpoint in partial.checkpoints() { _ = try resumed.restore(checkpoint) }
            let report = try await ProjectionCatchUp.run(&resumed, from: log.store)
            #expect(report.eventsApplied == last - split.rawValue)
            #expect(try views(resumed, tenant: tenant) == views(full, tenant: tenant), "split at \(split)")
        }
        // The counters show the overage: 3 used of a contingent cut to 1.
        let counter = full.projection(LicenceCountersProjection.self)?.counter(for: tenant, kind: .transcription)
        #expect(counter?.available == -2)
    }

    @Test func savedCheckpointsAreResumedAndAStaleCodeVersionIsRebuilt() async throws {
        let (log, tenant) = try await makeLog(seed: 9)
        var first = ProjectionSet.standard()
        _ = try await ProjectionCatchUp.run(&first, from: log.store)
        try await ProjectionCatchUp.save(first, to: log.store)
        // Pretend the licence counters were written by an older code version.
        let stored = try #require(try await log.store.checkpoint(named: LicenceCountersProjection.name))
        var state = stored.state
        state[0] = state[0] &+ 1
        try await log.store.save(Checkpoint(name: stored.name, position: stored.position, state: state))
        var second = ProjectionSet.standard()
        let report = try await ProjectionCatchUp.run(&second, from: log.store)
        #expect(report.rebuilt == [LicenceCountersProjection.name])
        #expect(report.restored.count == 4)
        #expect(try views(second, tenant: tenant) == views(first, tenant: tenant))
    }

    @Test func undecodableAndForeignEventsAreSkippedCountedAndTheCatchUpGoesOn() async throws {
        let (log, tenant) = try await makeLog(seed: 5)
        var clean = ProjectionSet.standard()
        _ = try await ProjectionCatchUp.run(&clean, from: log.store)
        let stream = try StreamName("user-\(UUID())")
        let bad = try await log.store.append(
            [ProposedEvent(type: "PresenceChanged", actor: "feed", payload: [0xFF])], to: stream
        ).firstPosition
        _ = try await log.store.append(
            [ProposedEvent(type: "PresenceChanged", actor: "feed", payload: [0xFF, 0xFF])], to: stream)
        let foreign = try await log.store.append(
            [ProposedEvent(type: "Noted", actor: "someone", payload: Array("{}".utf8))], to: StreamName("notes-1")
        ).firstPosition
        var set = ProjectionSet.standard()
        let report = try await ProjectionCatchUp.run(&set, from: log.store)
        // Every projection moved past them; the views are those of the log without them.
        #expect(set.positions.allSatisfy { $0 == foreign })
        #expect(report.skipped.unreadable == 2 && report.skipped.foreign == 1)
        #expect(report.skipped.unreadablePositions == [bad.rawValue, bad.rawValue + 1])
        #expect(try views(set, tenant: tenant) == views(clean, tenant: tenant))
        // The write model passes over them too, keeping the stream's version.
        let handler = CommandHandler(store: log.store)
        try await handler.catchUp()
        let model = await handler.currentModel
        #expect(model.skipped.unreadable == 2 && model.position == foreign)
    }

    /// With more than one lane and a long enough log, the catch-up pipelines: batches applied on lane threads
    /// while the reader decodes the next ones (read transactions of 2,500 events here, so it starts and stops
    /// the pipeline several times).
    @Test func aCatchUpOverSeveralLanesGivesWhatOneThreadGives() async throws {
        let (log, tenant) = try await makeLog(seed: 11, steps: 9_000)
        _ = try await log.store.append(
            [ProposedEvent(type: "PresenceChanged", actor: "feed", payload: [0xFF])],
            to: try StreamName("user-\(UUID())"))
        var single = ProjectionSet.standard()
        single.lanes = 1
        _ = try await ProjectionCatchUp.run(&single, from: log.store, batchSize: 2_500)
        #expect(single.position.rawValue > 9_000)
        var piped = ProjectionSet.standard()
        piped.lanes = 3
        let report = try await ProjectionCatchUp.run(&piped, from: log.store, batchSize: 2_500)
        #expect(report.position == single.position)
        #expect(piped.positions == single.positions)
        #expect(try views(piped, tenant: tenant) == views(single, tenant: tenant))
        for (lhs, rhs) in zip(piped.projections, single.projections) {
            let identical = lhs.encodeState() == rhs.encodeState()
            #expect(identical, "\(lhs.name)")
        }
        #expect(report.skipped.unreadable == 1 && single.skipped.unreadable == 1)
        // The same events handed to `ProjectionSet.apply(contentsOf:)`, which pipelines the same way.
        var fed = ProjectionSet.standard()
        fed.lanes = 3
        fed.apply(contentsOf: try await log.store.readAll(after: .start, maximumCount: 100_000))
        #expect(fed.positions == single.positions && fed.skipped.unreadable == 1)
        for (lhs, rhs) in zip(fed.projections, single.projections) {
            let identical = lhs.encodeState() == rhs.encodeState()
            #expect(identical, "\(lhs.name)")
        }
    }

    /// Pipelined, the catch-up stops at an as-of point in the middle of a read and leaves out what happened
    /// after a valid-at instant, as one thread does.
    @Test func aPipelinedCatchUpKeepsBothClocks() async throws {
        let (log, tenant) = try await makeLog(seed: 17, steps: 6_000)
        let middle = GlobalPosition((try await log.store.lastPosition()).rawValue * 3 / 5)
        let instant = Timestamp(microsecondsSinceEpoch: 1_794_787_200_000_000 + 2_500 * 60_000_000)
        for (asOf, validAt) in [(AsOf.position(middle), nil), (nil, instant), (.position(middle), instant)] {
            var single = ProjectionSet.standard()
            single.lanes = 1
            _ = try await ProjectionCatchUp.run(
                &single, from: log.store, asOf: asOf, validAt: validAt, batchSize: 2_500)
            var piped = ProjectionSet.standard()
            piped.lanes = 2
            _ = try await ProjectionCatchUp.run(&piped, from: log.store, asOf: asOf, validAt: validAt, batchSize: 2_500)
            if asOf != nil && validAt == nil { #expect(piped.position == middle) }
            #expect(piped.positions == single.positions)
            #expect(try views(piped, tenant: tenant) == views(single, tenant: tenant))
            for (lhs, rhs) in zip(piped.projections, single.projections) {
                let identical = lhs.encodeState() == rhs.encodeState()
                #expect(
                    identical, "\(lhs.name) as of \(String(describing: asOf)) valid at \(String(describing: validAt))")
            }
        }
    }
}
