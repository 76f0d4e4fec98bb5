import CumulusLog
import CumulusPostgres
import CumulusTesting
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

/// Wrong URLs, passwords, privileges and schema versions give one clear sentence and create nothing; a
/// connection that dies mid-append gives an error, and the retry by id stores the events once.
@Suite("PostgreSQL faults", .enabled(if: TestServer.enabled, TestServer.skipReason))
struct FaultTests {
    /// Opens `location` and returns the refusal's sentence; records an issue when it opens.
    func refusal(_ location: PostgresLocation, create: Bool = true) async -> EventStoreError? {
        do {
            let store = try await PostgresEventStore.open(location, options: .init(create: create))
            store.close()
            Issue.record("\(location) opened")
            return nil
        } catch {
            return error
        }
    }

    func schemaExists(_ schema: String) throws -> Bool {
        try TestServer.psql("SELECT count(*) FROM pg_namespace WHERE nspname = '\(schema)'") == "1"
    }

    @Test func aWrongPasswordIsOneSentenceWithoutThePassword() async throws {
        var location = try TestServer.freshLocation("pw")
        location.password = "not-the-password-\(UInt32.random(in: 0...UInt32.max))"
        let error = await refusal(location)
        let text = error?.description ?? ""
        #expect(text.contains("password authentication failed"), "\(text)")
        #expect(!text.contains(location.password ?? "?") && !text.contains("\n"), "\(text)")
        #expect(try !schemaExists(location.schema))
    }

    @Test func aMissingDatabaseAndAClosedPortAreNamed() async throws {
        var location = try TestServer.freshLocation("db")
        location.database = "no_such_database"
        let missing = await refusal(location)?.description ?? ""
        #expect(missing.contains("does not exist") && missing.contains("no_such_database"), "\(missing)")
        var closed = try TestServer.freshLocation("port")
        closed.host = "127.0.0.1"
        closed.port = 1
        let unreachable = await refusal(closed)?.description ?? ""
        #expect(unreachable.contains("cannot connect") && unreachable.contains("127.0.0.1:1"), "\(unreachable)")
    }

    @Test func aBadURLIsRefusedBeforeConnecting() throws {
        for text in ["postgres://", "postgres://host/db", "postgres://u@host/", "postgres://u@h/db?schema=Bad-Name"] {
            #expect(throws: EventStoreError.self, "\(text)") { _ = try PostgresLocation(url: text) }
        }
        let parsed = try PostgresLocation(url: "postgres://a%40b:p%3Ass@db.example:6543/logs?schema=tenant_1")
        #expect(parsed.user == "a@b" && parsed.password == "p:ss" && parsed.port == 6543 && parsed.schema == "tenant_1")
        #expect(!parsed.description.contains("p:ss"))
    }

    @Test func aMissingLogIsNotCreatedWithoutBeingAsked() async throws {
        let location = try TestServer.freshLocation("absent")
        let error = await refusal(location, create: false)
        #expect(error == .logNotFound(path: location.description))
        #expect(try !schemaExists(location.schema))
    }

    @Test func anotherSchemaVersionIsRefused() async throws {
        let store = try await TestServer.freshStore("version")
        store.close()
        try TestServer.psql("UPDATE \"\(store.location.schema)\".meta SET value = '4' WHERE key = 'schema_version'")
        let error = await refusal(store.location, create: false)
        #expect(
            error == .unsupportedFormat(path: store.location.description, found: 4, supported: 3),
            "\(String(describing: error))")
    }

    @Test func aRoleWithoutPrivilegesGetsTheServersReasonAndCreatesNothing() async throws {
        let owner = try await TestServer.freshStore("priv")
        defer { owner.close() }
        let role = "lim_\(UInt32.random(in: 0...UInt32.max))"
        let password = "pw\(UInt32.random(in: 0...UInt32.max))"
        try TestServer.psql("CREATE ROLE \(role) LOGIN PASSWORD '\(password)'")
        var limited = try TestServer.freshLocation("priv")
        limited.user = role
        limited.password = password
        // No CREATE on the database: a new log cannot be made, and nothing is.
        let creating = await refusal(limited)?.description ?? ""
        #expect(creating.contains("permission denied") && creating.contains("SQLSTATE 42501"), "\(creating)")
        #expect(try !schemaExists(limited.schema))
        // No USAGE on an existing log's schema: refused with the same reason.
        limited.schema = owner.location.schema
        let reading = await refusal(limited, create: false)?.description ?? ""
        #expect(reading.contains("permission denied"), "\(reading)")
        try TestServer.psql("DROP ROLE \(role)")
    }

    /// The writer's connection is killed while it waits for the head lock (inside its transaction): the append
    /// fails with an error, the connection is replaced, and the retry with the same ids stores them once.
    @Test func aConnectionKilledMidAppendFailsAndTheRetryStoresOnce() async throws {
        let store = try await TestServer.freshStore("kill")
        defer { store.close() }
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        var url = try PostgresLocation(url: try TestServer.requiredURL())
        url.schema = store.location.schema
        let configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 99, logger: logger)
        // pg_stat_activity is read once per transaction: the writer is looked for from another connection.
        let observer = try await PostgresConnection.connect(configuration: configuration, id: 98, logger: logger)
        defer { Task { try? await observer.close() } }
        let head = "\"\(url.schema)\".head"
        try await connection.query("BEGIN", logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: "SELECT * FROM \(head) FOR UPDATE"), logger: logger)
        let events = SampleEvents.make(3, label: "killed")
        let stream = try StreamName("user-killed")
        // The outcome is polled, not awaited: a hung append fails this test instead of hanging the whole run.
        let outcome = Mutex<Result<AppendResult, EventStoreError>?>(nil)
        let append = Task {
            do throws(EventStoreError) {
                let result = try await store.append(events, to: stream, expecting: .noStream)
                outcome.withLock { $0 = .success(result) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
        }
        // Find the writer waiting for the lock, and end its connection as a failing server would.
        var terminated = false
        let deadline = ContinuousClock.now + .seconds(60)
        while !terminated && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(25))
            let rows = try await observer.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                        WHERE wait_event_type = 'Lock' AND query LIKE '%\(url.schema)%FOR UPDATE%'
                        """), logger: logger
            ).collect()
            terminated = !rows.isEmpty
        }
        // Released before waiting for the append either way: a writer that was not found must not wait for ever.
        try await connection.query("ROLLBACK", logger: logger)
        try await connection.close()
        try #require(terminated, "the writer never waited for the head lock")
        var finished: Result<AppendResult, EventStoreError>?
        let appendDeadline = ContinuousClock.now + .seconds(30)
        while finished == nil && ContinuousClock.now < appendDeadline {
            try await Task.sleep(for: .milliseconds(25))
            finished = outcome.withLock { $0 }
        }
        guard let finished else {
            append.cancel()
            Issue.record("the append did not return within 30 s after its connection was killed")
            return
        }
        #expect(throws: EventStoreError.self) { _ = try finished.get() }
        // The client reconnects (a new store, as a restarted server process would) and retries by id.
        let reconnected = try await PostgresEventStore.open(store.location)
        defer { reconnected.close() }
        #expect(try await reconnected.lastPosition() == .start)
        let retried = try await reconnected.append(events, to: stream, expecting: .noStream)
        #expect(!retried.wasAlreadyStored && retried.lastPosition == GlobalPosition(3))
        let again = try await reconnected.append(events, to: stream, expecting: .noStream)
        #expect(again.wasAlreadyStored && again.lastPosition == GlobalPosition(3))
        #expect(try await reconnected.verify().eventCount == 3)
    }

}
