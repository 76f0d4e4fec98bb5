import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// Issue 14, item 3: a command that reuses a stored event id is checked for permission first, and is a
/// duplicate only when it is the same command; another command under that id is refused as a conflict.
@Suite("Repeated event ids")
struct RepeatedEventIDTests {
    let log: TemporaryEventLog
    let tenant = TenantID(UUID())
    let user = UserID(UUID())
    let id = UUID()
    let now: Int64 = 1_795_000_000_000_000

    init() throws { log = try TemporaryEventLog(durability: .deferred) }

    func change(_ state: String, by actor: Actor? = nil, at time: Int64? = nil) -> CommandRequest {
        CommandRequest(
            command: .changeUserState(user: user, state: state, responsibilityProfile: nil),
            actor: actor ?? .user(user), occurredAt: time ?? now, eventID: id)
    }

    /// A tenant, one user, and the user's change to `Break` stored under ``id``.
    func setUp() async throws -> CommandHandler {
        let handler = CommandHandler(store: log.store)
        _ = try await handler.handle(
            CommandRequest(
                command: .createTenant(
                    tenant: tenant, name: "Contoso", o365Domain: "contoso.onmicrosoft.com",
                    azureTenantID: UUID().uuidString, partner: nil, rootOU: OUID(UUID()), rootOUName: "Root",
                    widgetKey: UUID()),
                actor: .systemAdmin, occurredAt: now))
        _ = try await handler.handle(
            CommandRequest(
                command: .createUser(tenant: tenant, user: user, upn: "a@contoso.com", displayName: "A", ou: nil),
                actor: .systemAdmin, occurredAt: now))
        let first = try await handler.handle(change("Break"))
        guard case .appended = first else {
            Issue.record("the first change was not appended: \(first)")
            return handler
        }
        return handler
    }

    func storedPosition() async throws -> GlobalPosition {
        try #require(try await log.store.event(id: EventID(id))).position
    }

    @Test func aGuestReusingAStoredIdIsRefusedForPermissionNotCountedAsADuplicate() async throws {
        let handler = try await setUp()
        let before = try await log.store.lastPosition()
        for run in [false, true] {
            let result: Result<CommandOutcome, CommandError>
            if run {
                result = try await handler.handle(batch: [change("Available", by: .guest)])[0]
            } else {
                do { result = .success(try await handler.handle(change("Available", by: .guest))) } catch {
                    result = .failure(error)
                }
            }
            guard case .failure(.refused(.permissionDenied(let denial))) = result else {
                Issue.record("expected a permission refusal, got \(result)")
                continue
            }
            #expect(denial.actor == .guest)
        }
        #expect(try await log.store.lastPosition() == before)
    }

    @Test func anotherCommandUnderAStoredIdIsAConflictNamingTheIdAndPosition() async throws {
        let handler = try await setUp()
        let stored = try await storedPosition()
        let before = try await log.store.lastPosition()
        let conflicting = [
            change("Available"),  // other content
            change("Break", at: now + 1),  // other time
            change("Break", by: .tenantAdmin(tenant)),  // other actor
        ]
        for request in conflicting {
            let result = try await handler.handle(batch: [request])[0]
            guard case .failure(.storage(.eventIDConflict(let conflictID, let position))) = result else {
                Issue.record("expected an id conflict, got \(result)")
                continue
            }
            #expect(conflictID == EventID(id) && position == stored)
            #expect(
                CommandError.storage(.eventIDConflict(id: conflictID, storedAt: position)).description.contains(
                    "event id \(EventID(id)) is stored already at position \(stored) with different content"))
        }
        #expect(try await log.store.lastPosition() == before)
    }

    @Test func theSameCommandAgainIsADuplicateOnItsOwnAndWithinABatch() async throws {
        let handler = try await setUp()
        let stored = try await storedPosition()
        #expect(try await handler.handle(change("Break")) == .alreadyStored(stored))
        let results = try await handler.handle(batch: [change("Break"), change("Break")])
        #expect(results.map { try? $0.get() } == [.alreadyStored(stored), .alreadyStored(stored)])
    }

    @Test func withinOneBatchALaterLineReusingAnIdIsCheckedAgainstTheFirst() async throws {
        let handler = try await setUp()
        let fresh = UUID()
        func line(_ state: String, _ actor: Actor) -> CommandRequest {
            CommandRequest(
                command: .changeUserState(user: user, state: state, responsibilityProfile: nil), actor: actor,
                occurredAt: now + 5, eventID: fresh)
        }
        let results = try await handler.handle(
            batch: [
                line("Lunch", .user(user)), line("Lunch", .user(user)), line("Away", .user(user)),
                line("Lunch", .guest),
            ])
        let position = try #require(try await log.store.event(id: EventID(fresh))).position
        guard case .success(.appended) = results[0] else {
            Issue.record("the first line was not appended: \(results[0])")
            return
        }
        #expect(try results[1].get() == .alreadyStored(position))
        guard case .failure(.storage(.eventIDConflict)) = results[2] else {
            Issue.record("a different command under the same id was \(results[2])")
            return
        }
        guard case .failure(.refused(.permissionDenied)) = results[3] else {
            Issue.record("a guest under the same id was \(results[3])")
            return
        }
    }

    @Test func aLineRefusedInABatchDoesNotTakeItsIdFromALaterLine() async throws {
        let handler = try await setUp()
        let fresh = UUID()
        let refused = CommandRequest(
            command: .changeUserState(user: user, state: "Lunch", responsibilityProfile: nil), actor: .guest,
            occurredAt: now, eventID: fresh)
        let accepted = CommandRequest(
            command: .changeUserState(user: user, state: "Lunch", responsibilityProfile: nil), actor: .user(user),
            occurredAt: now, eventID: fresh)
        let results = try await handler.handle(batch: [refused, accepted])
        guard case .failure(.refused) = results[0], case .success(.appended) = results[1] else {
            Issue.record("unexpected \(results)")
            return
        }
    }
}
