import CumulusCommands
import CumulusDemo
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Synchronization
import Testing

/// `handle(batches:)` decides each next batch while the one before it commits. Whatever happens to the batch before,
/// it must give the lines and the log that one `handle(batch:)` after another gives.
@Suite("Pipelined batches")
struct PipelinedBatchesTests {
    /// The demo's commands, with a delivery repeated in the same batch and one repeated in the next batch.
    static func demoRequests() -> [CommandRequest] {
        var world = DemoWorld(tenants: 2, usersPerTenant: 12)
        var requests = world.setUp() + world.feed(day: 0)
        let withIDs = requests.indices.filter { requests[$0].eventID != nil }
        if let late = withIDs.last, let early = withIDs.first(where: { $0 > requests.count / 2 }),
            early + 350 < late
        {
            requests.insert(requests[late], at: late + 1)  // the same batch
            requests.insert(requests[early], at: early + 350)  // the next batch (batches of 300)
        }
        return requests
    }

    static func batches(_ requests: [CommandRequest], of size: Int) -> [[CommandRequest]] {
        stride(from: 0, to: requests.count, by: size).map { Array(requests[$0..<min($0 + size, requests.count)]) }
    }

    /// A line's outcome without the ids the handler generates.
    /// `placed`: with the positions (false when another writer's events move them).
    static func shape(_ line: CommandHandler.LineResult, placed: Bool = true) -> String {
        switch line {
        case .success(.appended(let results)):
            return "appended "
                + results.map { placed ? "\($0.stream)@\($0.firstPosition)-\($0.lastPosition)" : "\($0.stream)" }
                .joined(separator: ",")
        case .success(.alreadyStored) where !placed: return "alreadyStored"
        case .success(let outcome): return "\(outcome)"
        case .failure(let error): return "refused \(error.description)"
        }
    }

    /// The log without the ids the handler generates (event, correlation) and the recording instant.
    static func shape(of store: any EventStore) async throws -> [String] {
        var shapes: [String] = []
        var position = GlobalPosition.start
        while true {
            let events = try await store.readAll(after: position, maximumCount: 4096)
            guard let last = events.last else { return shapes }
            for event in events {
                shapes.append(
                    "\(event.position) \(event.stream)@\(event.streamVersion) \(event.type) \(event.actor) "
                        + "\(event.occurredAt) \(event.payload)")
            }
            position = last.position
        }
    }

    @Test func theLinesAndTheLogAreThoseOfOneBatchAtATime() async throws {
        let requests = Self.demoRequests()
        try #require(requests.count > 1_000)
        let batches = Self.batches(requests, of: 300)
        let (one, expected) = try await Self.oneBatchAtATime(batches)
        let piped = try TemporaryEventLog(durability: .deferred)
        let handler = CommandHandler(store: piped.store)
        let progress = ProgressRecorder()
        let outcome = await handler.handle(batches: batches) { progress.record($0) }
        #expect(outcome.failure == nil)
        #expect(outcome.results.count == batches.count)
        #expect(progress.values == Array(1...batches.count))
        let lines = outcome.results.flatMap { $0.map { Self.shape($0) } }
        Self.expectSame(lines, expected.map { Self.shape($0) }, "line")
        #expect(lines.filter { $0.hasPrefix("alreadyStored") }.count >= 2)
        let log = try await Self.shape(of: piped.store)
        #expect(log.count > 1_000)
        Self.expectSame(log, try await Self.shape(of: one.store), "event")
        _ = try await Self.expectModelIsTheLogs(handler, piped.store)
    }

    /// The store refuses two units of a batch (as if another writer had taken their event ids since the batch was
    /// decided): a rename of a user and the creation of a tenant. The next batch — decided meanwhile against a model
    /// in which both happened — must be decided again: the same rename again is then a change (appended, not
    /// "unchanged"), and commands on the tenant are refused; nothing of them reaches the log.
    @Test func aBatchThatDidNotTurnOutAsDecidedMakesTheNextOneBeDecidedAgain() async throws {
        let log = try TemporaryEventLog(durability: .deferred)
        let now: Int64 = 1_795_000_000_000_000
        let (kept, lost, user) = (TenantID(UUID()), TenantID(UUID()), UserID(UUID()))
        let (refusedRename, refusedTenant) = (UUID(), UUID())
        func createTenant(_ tenant: TenantID, _ name: String, id: UUID? = nil) -> CommandRequest {
            CommandRequest(
                command: .createTenant(
                    tenant: tenant, name: name, o365Domain: "\(name).onmicrosoft.com",
                    azureTenantID: UUID().uuidString, partner: nil, rootOU: OUID(UUID()), rootOUName: "Root",
                    widgetKey: UUID()),
                actor: .systemAdmin, occurredAt: now, eventID: id)
        }
        func createUser(_ tenant: TenantID, _ name: String, id: UserID = UserID(UUID())) -> CommandRequest {
            CommandRequest(
                command: .createUser(
                    tenant: tenant, user: id, upn: "\(name)@example.com", displayName: name, ou: nil),
                actor: .systemAdmin, occurredAt: now)
        }
        func rename(id: UUID? = nil) -> CommandRequest {
            CommandRequest(
                command: .renameUser(user: user, displayName: "Renamed"), actor: .systemAdmin, occurredAt: now,
                eventID: id)
        }
        let batches = [
            [createTenant(kept, "kept"), createUser(kept, "u", id: user)],
            [rename(id: refusedRename), createTenant(lost, "lost", id: refusedTenant)],
            [rename(), createUser(lost, "b"), createUser(lost, "c")],
            [createUser(kept, "d"), createUser(lost, "e")],
        ]
        let store = RefusingStore(base: log.store, refused: [refusedRename, refusedTenant])
        let handler = CommandHandler(store: store)
        let outcome = await handler.handle(batches: batches)
        #expect(outcome.failure == nil)
        try #require(outcome.results.count == 4)
        let accepted = outcome.results.map { $0.map { (try? $0.get()) != nil } }
        #expect(accepted == [[true, true], [false, false], [true, false, false], [true, false]])
        if case .success(let outcome) = outcome.results[2][0], case .appended = outcome {
        } else {
            Issue.record("the rename after the refused one was not appended: \(outcome.results[2][0])")
        }
        for line in outcome.results[2].dropFirst() + outcome.results[3].dropFirst() {
            guard case .failure(.refused(.notFound)) = line else {
                Issue.record("a command on the tenant that was not created: \(line)")
                continue
            }
        }
        let rebuilt = try await Self.expectModelIsTheLogs(handler, log.store)
        #expect(rebuilt.tenants[kept]?.users.count == 2)
        #expect(rebuilt.tenants[kept]?.users[user]?.displayName.value == "Renamed")
        #expect(rebuilt.tenants[lost] == nil)
    }

    /// Another writer appends between the batches (before every other batch's append, so after the batch before's
    /// events and before this batch's, which was decided without them): commands of a tenant of its own, which the
    /// demo's commands do not touch. The lines must be those of one batch at a time, the log the same apart from the
    /// other writer's events and the positions, and the handler's model the one folded from the log.
    @Test func anotherWritersEventsBetweenTheBatchesAreFoldedFromTheLog() async throws {
        let requests = Self.demoRequests()
        let batches = Self.batches(requests, of: 300)
        let (one, expected) = try await Self.oneBatchAtATime(batches)
        let piped = try TemporaryEventLog(durability: .deferred)
        let store = InterleavingStore(base: piped.store)
        let handler = CommandHandler(store: store)
        let outcome = await handler.handle(batches: batches)
        #expect(outcome.failure == nil)
        #expect(store.interleaved.withLock { $0 } >= batches.count / 2 - 1)
        Self.expectSame(
            outcome.results.flatMap { $0.map { Self.shape($0, placed: false) } },
            expected.map { Self.shape($0, placed: false) }, "line")
        let foreign = store.foreign.withLock { $0 }
        let log = try await Self.shape(of: piped.store)
        let ownLog = log.filter { !foreign.contains(UInt64($0.prefix { $0 != " " }) ?? 0) }.map(Self.unplaced)
        #expect(log.count > ownLog.count)
        Self.expectSame(ownLog, try await Self.shape(of: one.store).map(Self.unplaced), "event")
        let rebuilt = try await Self.expectModelIsTheLogs(handler, piped.store)
        #expect(rebuilt.tenants[InterleavingStore.tenant]?.users.count ?? 0 >= batches.count / 2 - 2)
    }

    /// `batches` handled one `handle(batch:)` after another on a log of their own: the log, and the lines.
    static func oneBatchAtATime(
        _ batches: [[CommandRequest]]
    ) async throws -> (log: TemporaryEventLog, lines: [CommandHandler.LineResult]) {
        let log = try TemporaryEventLog(durability: .deferred)
        let handler = CommandHandler(store: log.store)
        var lines: [CommandHandler.LineResult] = []
        for batch in batches { lines += try await handler.handle(batch: batch) }
        return (log, lines)
    }

    /// Expects `actual` to be `expected`, naming the first `what` (line, event) that differs.
    static func expectSame(_ actual: [String], _ expected: [String], _ what: String) {
        #expect(actual.count == expected.count, "\(actual.count) \(what)s against \(expected.count)")
        let first = actual.indices.first { $0 < expected.count && actual[$0] != expected[$0] }
        #expect(first == nil, "\(what) \(first ?? -1) differs")
    }

    /// Expects `handler`'s model to be the one a fresh handler folds from `store`; returns that one.
    static func expectModelIsTheLogs(_ handler: CommandHandler, _ store: any EventStore) async throws -> WriteModel {
        let fresh = CommandHandler(store: store)
        try await fresh.catchUp()
        let (kept, rebuilt) = (await handler.currentModel, await fresh.currentModel)
        let same = kept == rebuilt  // compared outside #expect, which would print both whole models
        #expect(same, "the model differs from the one folded from the log")
        return rebuilt
    }

    /// An event of ``shape(of:)`` without its position.
    static func unplaced(_ event: String) -> String {
        String(event.drop { $0 != " " }.dropFirst())
    }
}

/// Records the progress callback's values.
private final class ProgressRecorder: Sendable {
    private let recorded = Mutex<[Int]>([])
    var values: [Int] { recorded.withLock { $0 } }
    func record(_ value: Int) { recorded.withLock { $0.append(value) } }
}

/// A store that refuses every unit whose first event has one of `refused`'s ids (as an id conflict) and appends the
/// others.
private struct RefusingStore: WrappingStore {
    let base: any EventStore
    let refused: Set<UUID>

    func append(units: [[StreamAppend]]) async throws(EventStoreError) -> [Result<[AppendResult], EventStoreError>] {
        let refusing = units.map { refused.contains($0.first?.events.first?.id.uuid ?? UUID()) }
        var passed = try await base.append(units: zip(units, refusing).filter { !$0.1 }.map(\.0)).makeIterator()
        return zip(units, refusing).map { unit, refuse in
            if refuse, let id = unit.first?.events.first?.id {
                return .failure(.eventIDConflict(id: id, storedAt: GlobalPosition(1)))
            }
            return passed.next() ?? .failure(.eventIDConflict(id: EventID(UUID()), storedAt: GlobalPosition(1)))
        }
    }
}

/// A store whose every other `append(units:)` is preceded by another writer's command, appended to the same log by a
/// handler of its own: a tenant of its own first, then one user in it each time. It records where the other
/// writer's events landed.
private final class InterleavingStore: WrappingStore, Sendable {
    static let tenant = TenantID(UUID(uuidString: "0F0F0F0F-0000-4000-8000-000000000001") ?? UUID())
    let base: any EventStore
    let other: CommandHandler
    let calls = Mutex(0)
    let interleaved = Mutex(0)
    /// The positions of the other writer's events.
    let foreign = Mutex(Set<UInt64>())

    init(base: any EventStore) {
        self.base = base
        other = CommandHandler(store: base)
    }

    func append(units: [[StreamAppend]]) async throws(EventStoreError) -> [Result<[AppendResult], EventStoreError>] {
        let call = calls.withLock { calls in
            defer { calls += 1 }
            return calls
        }
        if call % 2 == 1 {
            let now: Int64 = 1_795_000_000_000_000
            let command: Command =
                call == 1
                ? .createTenant(
                    tenant: Self.tenant, name: "OtherWriter", o365Domain: "otherwriter.onmicrosoft.com",
                    azureTenantID: UUID().uuidString, partner: nil, rootOU: OUID(UUID()), rootOUName: "Root",
                    widgetKey: UUID())
                : .createUser(
                    tenant: Self.tenant, user: UserID(UUID()), upn: "u\(call)@otherwriter.example.com",
                    displayName: "OtherWriter \(call)", ou: nil)
            let lines =
                (try? await other.handle(batch: [CommandRequest(command: command, actor: .systemAdmin, occurredAt: now)]
                )) ?? []
            if case .success(.appended(let results)) = lines.first {
                interleaved.withLock { $0 += 1 }
                for result in results {
                    foreign.withLock { $0.formUnion(result.firstPosition.rawValue...result.lastPosition.rawValue) }
                }
            }
        }
        return try await base.append(units: units)
    }
}
