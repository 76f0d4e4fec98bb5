import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusProjections
import Foundation

/// Opens a log in a temporary directory, follows it, runs domain commands and builds a view; exits with
/// status 1 when anything does not come out as expected. The README's embedding sections are the
/// snippets marked below (`Tools/scripts/example.sh` checks that they match).
@main
struct EmbeddingExample {
    static func main() async {
        let directory = NSTemporaryDirectory() + "cumulus-example-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            try await run(in: directory)
            print("embedding example: ok")
        } catch {
            print("embedding example failed: \(error)")
            exit(1)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func check(_ condition: Bool, _ what: String) throws {
        print((condition ? "ok      " : "FAILED  ") + what)
        if !condition { throw Failure(description: what) }
    }

    static func run(in directory: String) async throws {
        // snippet: embedding-the-log
        // A log of your own events (the domain's commands run on a log of their own, below).
        let notes = try LMDBEventStore.open(directory: directory + "/notes", options: .init(create: true))
        defer { notes.close() }  // a handle belongs to its caller: closing it leaves other handles working

        let stream = try StreamName("note-1")
        let event = ProposedEvent(type: "NoteTaken", actor: "example", payload: Array("hello".utf8))
        // Optimistic concurrency: refused with .wrongExpectedVersion(stream:expected:actual:) if someone was first.
        let appended = try await notes.append([event], to: stream, expecting: .noStream)
        let history = try await notes.read(stream: stream)  // one stream
        let page = try await notes.readAll(after: .start, maximumCount: 10_000)  // the log in bounded batches

        // The log domain commands run on. Follow it: catch up, then wait for new events (here: a new user).
        let log = try LMDBEventStore.open(directory: directory + "/domain", options: .init(create: true))
        defer { log.close() }
        let follower = Task {
            var types: [String] = []
            for try await recorded in log.subscribe(after: .start) {
                types.append(recorded.type)
                if recorded.type == "UserCreated" { break }
            }
            return types
        }
        // end-snippet
        try check(appended.firstPosition == GlobalPosition(1), "the first append is at position 1")
        try check(history.map(\.type) == ["NoteTaken"] && page.count == 1, "the stream and the log read back")

        let tenant = TenantID(UUID())
        let user = UserID(UUID())
        let now = Timestamp.now.microsecondsSinceEpoch
        // snippet: running-commands
        let handler = CommandHandler(store: log)
        _ = try await handler.handle(
            CommandRequest(
                command: .createTenant(
                    tenant: tenant, name: "Contoso", o365Domain: "contoso.onmicrosoft.com",
                    azureTenantID: UUID().uuidString, partner: nil, rootOU: OUID(UUID()), rootOUName: "Root",
                    widgetKey: UUID()),
                actor: .systemAdmin, occurredAt: now))
        let outcome = try await handler.handle(
            CommandRequest(
                command: .createUser(
                    tenant: tenant, user: user, upn: "anna@contoso.com", displayName: "Anna", ou: nil),
                actor: .tenantAdmin(tenant), occurredAt: now))
        // A refusal is CommandError.refused(DomainError) — permissionDenied, validation, licenceExhausted,
        // tenantNotOperational, notFound, … — and nothing is appended.
        var refusal: CommandError?
        do {
            _ = try await handler.handle(
                CommandRequest(
                    command: .setLicenceContingent(tenant: tenant, kind: .transcription, contingent: 5),
                    actor: .tenantAdmin(tenant), occurredAt: now))
        } catch {
            refusal = error
        }
        // end-snippet
        try check(outcome.eventCount > 0, "createUser appended events")
        if case .refused(.permissionDenied) = refusal {
            try check(true, "a tenant admin may not set licence contingents")
        } else {
            try check(false, "a tenant admin may not set licence contingents (got \(String(describing: refusal)))")
        }
        let followed = try await follower.value
        try check(
            followed.contains("TenantCreated") && followed.last == "UserCreated", "the subscription followed the log")

        // snippet: building-views
        var set = ProjectionSet.standard()  // current-state, licence-counters, user-state-report, time-in-state, audit
        let caughtUp = try await ProjectionCatchUp.run(&set, from: log)
        try await ProjectionCatchUp.save(set, to: log)  // one checkpoint per projection, with its code version
        let users = set.projection(CurrentStateProjection.self)?.users(in: tenant) ?? []
        // end-snippet
        try check(caughtUp.position == (try await log.lastPosition()), "the views include the whole log")
        try check(users.map(\.id) == [user], "the current state lists the new user")
        let restored = try await log.checkpoint(named: set.projections[0].name)
        try check(restored?.position == caughtUp.position, "the checkpoints were saved")
    }
}
