import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// The two tenant-wide consistency boundaries of issue 13: UPNs (`upns-<tenant>`) and OU moves
/// (`outree-<tenant>`). Racing commands that would break an invariant together have exactly one winner.
@Suite("UPN and OU-tree races")
struct UserAndTreeRaceTests {
    let log: TemporaryEventLog
    let tenant = TenantID(UUID())
    let root = OUID(UUID())
    let now: Int64 = 1_795_000_000_000_000

    init() throws {
        log = try TemporaryEventLog(durability: .deferred)
    }

    func request(_ command: Command, by actor: Actor = .systemAdmin) -> CommandRequest {
        CommandRequest(command: command, actor: actor, occurredAt: now)
    }

    func setUp(_ handler: CommandHandler) async throws {
        _ = try await handler.handle(
            request(
                .createTenant(
                    tenant: tenant, name: "Contoso", o365Domain: "contoso.onmicrosoft.com",
                    azureTenantID: UUID().uuidString, partner: nil, rootOU: root, rootOUName: "Root",
                    widgetKey: UUID())))
    }

    func createOU(_ handler: CommandHandler, under parent: OUID) async throws -> OUID {
        let ou = OUID(UUID())
        _ = try await handler.handle(request(.createOU(tenant: tenant, ou: ou, parent: parent, name: "OU")))
        return ou
    }

    /// Builds the log appends of `decision` as the handler does, expecting the versions `model` saw.
    func appends(of decision: Decision, model: WriteModel) -> [StreamAppend] {
        decision.changes.map { change in
            StreamAppend(
                stream: StreamName(unchecked: change.stream.rawValue),
                expectedVersion: change.isNewStream || model.version(of: change.stream) == .empty
                    ? .noStream : .exactly(model.version(of: change.stream)),
                events: change.events.map { event in
                    ProposedEvent(
                        id: .generate(), type: event.typeName, schemaVersion: event.schemaVersion,
                        occurredAt: Timestamp(microsecondsSinceEpoch: now), actor: "systemAdmin",
                        correlationID: UUID(), payload: event.encodePayload())
                })
        }
    }

    /// Whether the OU tree as the log now holds it has a cycle (walking up from every OU must reach the root).
    func treeHasACycle() async throws -> Bool {
        let handler = CommandHandler(store: log.store)
        try await handler.catchUp()
        let ous = await handler.currentModel.tenants[tenant]?.ous ?? [:]
        for start in ous.keys {
            var seen: Set<OUID> = []
            var current: OUID? = start
            while let ou = current {
                if !seen.insert(ou).inserted { return true }
                current = ous[ou]?.parent
            }
        }
        return false
    }

    @Test func movesThatWouldCloseACycleTogetherHaveExactlyOneWinner() async throws {
        let setup = CommandHandler(store: log.store)
        try await setUp(setup)
        for _ in 0..<4 {
            // root → p → a → a1 and root → q → b → b1: moving a under b1 and b under a1 touch disjoint OU streams
            // (a, p, b1 and b, q, a1), yet together they would close the cycle a → b1 → b → a1 → a.
            let p = try await createOU(setup, under: root)
            let q = try await createOU(setup, under: root)
            let a = try await createOU(setup, under: p)
            let a1 = try await createOU(setup, under: a)
            let b = try await createOU(setup, under: q)
            let b1 = try await createOU(setup, under: b)
            let handlers = (0..<2).map { _ in CommandHandler(store: log.store) }
            for handler in handlers { try await handler.catchUp() }
            let moves = [request(.moveOU(ou: a, newParent: b1)), request(.moveOU(ou: b, newParent: a1))]
            let outcomes = await withTaskGroup(of: Result<CommandOutcome, CommandError>.self) { group in
                for (handler, move) in zip(handlers, moves) {
                    group.addTask {
                        do throws(CommandError) { return .success(try await handler.handle(move)) } catch {
                            return .failure(error)
                        }
                    }
                }
                var all: [Result<CommandOutcome, CommandError>] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.filter { (try? $0.get()) != nil }.count == 1)
            for case .failure(let error) in outcomes {
                guard case .refused(.invalidTreeChange) = error else {
                    Issue.record("the losing move failed with \(error)")
                    continue
                }
            }
            #expect(try await treeHasACycle() == false)
        }
    }

    @Test func aMoveDecidedOnAStaleTreeIsRefusedByTheLog() async throws {
        let setup = CommandHandler(store: log.store)
        try await setUp(setup)
        let p = try await createOU(setup, under: root)
        let q = try await createOU(setup, under: root)
        let a = try await createOU(setup, under: p)
        let a1 = try await createOU(setup, under: a)
        let b = try await createOU(setup, under: q)
        let b1 = try await createOU(setup, under: b)
        try await setup.catchUp()
        let model = await setup.currentModel
        // Both decided on the same tree, as two processes would: each is valid on its own.
        let first = try request(.moveOU(ou: a, newParent: b1)).decide(
            in: model.context(for: .moveOU(ou: a, newParent: b1)))
        let second = try request(.moveOU(ou: b, newParent: a1)).decide(
            in: model.context(for: .moveOU(ou: b, newParent: a1)))
        _ = try await log.store.append(atomically: appends(of: first, model: model))
        await #expect {
            _ = try await log.store.append(atomically: appends(of: second, model: model))
        } throws: { error in
            guard case .wrongExpectedVersion(let stream, _, _) = error as? EventStoreError else { return false }
            return stream.rawValue == "outree-\(tenant)"
        }
        #expect(try await treeHasACycle() == false)
    }

    @Test func creationsRacingForOneUPNHaveExactlyOneWinner() async throws {
        let setup = CommandHandler(store: log.store)
        try await setUp(setup)
        let handlers = (0..<3).map { _ in CommandHandler(store: log.store) }
        let outcomes = await withTaskGroup(of: Result<CommandOutcome, CommandError>.self) { group in
            for index in 0..<9 {
                let handler = handlers[index % 3]
                let upn = index % 2 == 0 ? "Shared@Contoso.com" : "shared@contoso.com"
                let creation = request(
                    .createUser(tenant: tenant, user: UserID(UUID()), upn: upn, displayName: "U\(index)", ou: nil))
                group.addTask {
                    do throws(CommandError) { return .success(try await handler.handle(creation)) } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<CommandOutcome, CommandError>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.filter { (try? $0.get()) != nil }.count == 1)
        for case .failure(let error) in outcomes {
            guard case .refused(.validation(let failure)) = error else {
                Issue.record("a losing creation failed with \(error)")
                continue
            }
            #expect(failure.field == "upn")
        }
        try await setup.catchUp()
        #expect(await setup.currentModel.tenants[tenant]?.users.count == 1)
    }
}
