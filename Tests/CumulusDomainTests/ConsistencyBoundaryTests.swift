import CumulusDomain
import Foundation
import Testing

/// A stand-in for the event log with optimistic concurrency, to show that the domain's stream
/// boundaries decide races: every written stream is appended with the version it was loaded at.
private actor VersionedLog {
    private var streams: [AggregateStream: [DomainEvent]] = [:]
    private var global: [DomainEvent] = []

    struct VersionMismatch: Error {}

    /// Everything, folded, plus the version of every stream at that moment.
    func load() -> (DecisionContext, [AggregateStream: Int]) {
        var context = DecisionContext()
        context.apply(global)
        return (context, streams.mapValues(\.count))
    }

    /// Appends all changes atomically, or none if any stream moved since `versions`.
    func append(_ decision: Decision, loadedAt versions: [AggregateStream: Int]) throws {
        for change in decision.changes {
            let current = streams[change.stream]?.count
            if change.isNewStream ? current != nil : current != versions[change.stream] { throw VersionMismatch() }
        }
        for change in decision.changes { streams[change.stream, default: []].append(contentsOf: change.events) }
        global.append(contentsOf: decision.events)
    }
}

/// Load, decide, append; retry on a version mismatch. Returns the refusal, or nil when accepted.
private func handle(_ request: CommandRequest, on log: VersionedLog) async -> DomainError? {
    while true {
        let (context, versions) = await log.load()
        let decision: Decision
        do { decision = try request.decide(in: context) } catch { return error }
        do {
            try await log.append(decision, loadedAt: versions)
            return nil
        } catch {
            await Task.yield()
        }
    }
}

@Suite struct ConsistencyBoundaryTests {
    @Test func manyRacersForTheLastFreeLicenceExactlyOneWins() async throws {
        let log = VersionedLog()
        let t = TestWorld.tenant
        let setup: [Command] = [
            TestWorld.createTenant(), .setLicenceContingent(tenant: t, kind: .attendantConsole, contingent: 1),
        ]
        for command in setup {
            #expect(await handle(CommandRequest(command: command, actor: .systemAdmin, occurredAt: 0), on: log) == nil)
        }
        var users: [UserID] = []
        for index in 0..<16 {
            let user = UserID(UUID())
            users.append(user)
            let create = Command.createUser(
                tenant: t, user: user, upn: "u\(index)@contoso.com", displayName: "U", ou: nil)
            #expect(await handle(CommandRequest(command: create, actor: .systemAdmin, occurredAt: 0), on: log) == nil)
        }
        let outcomes = await withTaskGroup(of: DomainError?.self) { group in
            for user in users {
                group.addTask {
                    await handle(
                        CommandRequest(
                            command: .assignUserLicence(user: user, kind: .attendantConsole), actor: .tenantAdmin(t),
                            occurredAt: 0),
                        on: log)
                }
            }
            var all: [DomainError?] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.filter { $0 == nil }.count == 1)
        #expect(
            outcomes.compactMap { $0 }.allSatisfy {
                $0 == .licenceExhausted(LicenceExhausted(kind: .attendantConsole, used: 1, contingent: 1))
            })
        let (context, _) = await log.load()
        #expect(context.licences?.used(.attendantConsole) == 1)
    }

    @Test func twoTenantsRacingForTheSameDomainOrAzureIDExactlyOneWins() async {
        let log = VersionedLog()
        let outcomes = await withTaskGroup(of: DomainError?.self) { group in
            for index in 0..<8 {
                group.addTask {
                    let command = TestWorld.createTenant(
                        TenantID(UUID()), name: "Tenant \(index)", domain: "shared.onmicrosoft.com",
                        azureID: UUID().uuidString, root: OUID(UUID()))
                    return await handle(CommandRequest(command: command, actor: .systemAdmin, occurredAt: 0), on: log)
                }
            }
            var all: [DomainError?] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.filter { $0 == nil }.count == 1)
        #expect(
            outcomes.compactMap { $0 }.allSatisfy {
                if case .conflict(let conflict) = $0 { conflict.field == "o365Domain" } else { false }
            })
    }

    @Test func decisionsOnTheSameLicencePoolWriteTheSameStream() throws {
        var world = try TestWorld.withTenant()
        try world.setContingent(.transcription, 1)
        let a = try world.createUser()
        let b = try world.createUser()
        let first = try CommandRequest(
            command: .assignUserLicence(user: a, kind: .transcription), actor: .systemAdmin, occurredAt: 0
        )
        .decide(in: world.context)
        let second = try CommandRequest(
            command: .assignUserLicence(user: b, kind: .transcription), actor: .systemAdmin, occurredAt: 0
        )
        .decide(in: world.context)
        #expect(first.changes.map(\.stream) == [.licences(TestWorld.tenant)])
        #expect(second.changes.map(\.stream) == [.licences(TestWorld.tenant)])
    }
}

@Suite("Decision changes")
struct DecisionChangesTests {
    /// One event (the feed's decisions) takes a path of its own: the same grouping, new stream or not.
    @Test func oneEventGroupsLikeMany() {
        let user = UserID(UUID())
        let presence = DomainEvent.presenceChanged(
            PresenceChanged(user: user, availability: .busy, activity: .inACall))
        let single = Decision([presence])
        #expect(single.changes.map(\.stream) == [.user(user)])
        #expect(single.changes.map(\.events) == [[presence]])
        #expect(single.changes.map(\.isNewStream) == [false])
        let created = Decision([presence], newStreams: [.user(user)])
        #expect(created.changes.map(\.stream) == [.user(user)])
        #expect(created.changes.map(\.isNewStream) == [true])
        let other = Decision([presence], newStreams: [.user(UserID(UUID()))])
        #expect(other.changes.map(\.isNewStream) == [false])
        // Two events of the same stream still come out as one change, in decided order.
        let state = DomainEvent.userStateChanged(
            UserStateChanged(user: user, state: UserStateName(name: "Break"), responsibilityProfile: nil))
        #expect(Decision([presence, state]).changes.map(\.events) == [[presence, state]])
    }
}
