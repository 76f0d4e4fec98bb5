import CumulusLog
import CumulusPostgres
import CumulusTesting
import Foundation
import Testing

/// A log of schema version 1 (with its `streams` table) opens under version 2: it is migrated in place, keeps its
/// events, chain head and checkpoints, and takes new appends; a role that may not migrate it is told which
/// command does, and the log is left as it was (docs/postgres.md, "Schema").
@Suite("PostgreSQL schema migration", .enabled(if: TestServer.enabled, TestServer.skipReason))
struct MigrationTests {
    /// The statements schema version 1 created a log with, as Cumulus ran them (PostgresSchema, version 1).
    ///
    /// A frozen copy on purpose, not derived from `PostgresSchema.creation`: the migration must keep working on the
    /// layout version 1 really wrote, whatever later versions change in theirs.
    static func version1Creation(_ schema: String) -> [String] {
        let zeros = String(repeating: "00", count: 32)
        let table = { (name: String) in "\"\(schema)\".\"\(name)\"" }
        return [
            "CREATE SCHEMA IF NOT EXISTS \"\(schema)\"",
            "CREATE TABLE \(table("meta")) (key text PRIMARY KEY, value text NOT NULL)",
            "INSERT INTO \(table("meta")) (key, value) VALUES ('schema_version', '1')",
            """
            CREATE TABLE \(table("head")) (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                last_position bigint NOT NULL,
                link bytea NOT NULL
            )
            """,
            "INSERT INTO \(table("head")) (singleton, last_position, link) VALUES (true, 0, '\\x\(zeros)')",
            """
            CREATE TABLE \(table("events")) (
                position bigint PRIMARY KEY,
                stream text NOT NULL,
                version bigint NOT NULL,
                id uuid NOT NULL UNIQUE,
                type text NOT NULL,
                schema_version integer NOT NULL,
                actor text NOT NULL,
                occurred_at bigint NOT NULL,
                recorded_at bigint NOT NULL,
                correlation_id uuid,
                causation_id uuid,
                previous_in_stream bigint NOT NULL,
                payload bytea NOT NULL,
                link bytea NOT NULL,
                UNIQUE (stream, version)
            )
            """,
            """
            CREATE TABLE \(table("streams")) (
                stream text PRIMARY KEY,
                version bigint NOT NULL,
                last_position bigint NOT NULL
            )
            """,
            """
            CREATE TABLE \(table("checkpoints")) (
                name text PRIMARY KEY,
                position bigint NOT NULL,
                state bytea NOT NULL,
                checksum bytea NOT NULL
            )
            """,
        ]
    }

    /// A version 1 log holding 30 events over 3 streams and a checkpoint: the version 1 tables, filled with the
    /// rows of a log written by this Cumulus (the `events`, `head` and `checkpoints` rows of both versions are
    /// the same) and the `streams` rows a version 1 writer kept. Returns its location and its verification.
    func version1Log() async throws -> (PostgresLocation, VerificationReport) {
        let source = try await TestServer.freshStore("v1src")
        for round in 0..<5 {
            for stream in 0..<3 {
                _ = try await source.append(
                    SampleEvents.make(2, label: "r\(round)s\(stream)"), to: StreamName("user-\(stream)"))
            }
        }
        try await source.save(Checkpoint(name: "current-state", position: GlobalPosition(30), state: [7, 8, 9]))
        let report = try await source.verify()
        source.close()
        var location = source.location
        location.schema = TestServer.freshSchema("v1")
        let from = { (name: String) in "\"\(source.location.schema)\".\"\(name)\"" }
        let into = { (name: String) in "\"\(location.schema)\".\"\(name)\"" }
        var statements = Self.version1Creation(location.schema)
        statements += [
            "INSERT INTO \(into("events")) SELECT * FROM \(from("events"))",
            "UPDATE \(into("head")) SET (last_position, link) = (SELECT last_position, link FROM \(from("head")))",
            "INSERT INTO \(into("checkpoints")) SELECT * FROM \(from("checkpoints"))",
            """
            INSERT INTO \(into("streams")) (stream, version, last_position)
            SELECT stream, max(version), max(position) FROM \(into("events")) GROUP BY stream
            """,
            "DROP SCHEMA \"\(source.location.schema)\" CASCADE",
        ]
        try TestServer.psql("BEGIN; " + statements.joined(separator: "; ") + "; COMMIT")
        return (location, report)
    }

    func schemaVersion(_ location: PostgresLocation) throws -> String {
        try TestServer.psql("SELECT value FROM \"\(location.schema)\".meta WHERE key = 'schema_version'")
    }

    func hasStreamsTable(_ location: PostgresLocation) throws -> Bool {
        try TestServer.psql("SELECT to_regclass('\"\(location.schema)\".streams') IS NOT NULL") == "t"
    }

    @Test func aVersion1LogIsMigratedWhenOpenedAndKeepsItsHistory() async throws {
        let (location, before) = try await version1Log()
        #expect(try schemaVersion(location) == "1" && hasStreamsTable(location))
        let store = try await PostgresEventStore.open(location, options: .init(create: false))
        defer { store.close() }
        #expect(try schemaVersion(location) == "2")
        #expect(try !hasStreamsTable(location))
        // Same events, same chain head, same checkpoint.
        let after = try await store.verify()
        #expect(after == before, "\(after) ≠ \(before)")
        #expect(after.eventCount == 30 && after.streamCount == 3 && after.checkpointCount == 1)
        let statistics = try await store.statistics()
        #expect(statistics.eventCount == 30 && statistics.streamCount == 3 && statistics.checkpointCount == 1)
        #expect(try await store.checkpoint(named: "current-state")?.state == [7, 8, 9])
        // The heads now come from the events: the expected-version check and the next version agree.
        let stream = try StreamName("user-1")
        #expect(try await store.version(of: stream) == StreamVersion(10))
        await #expect(throws: EventStoreError.self) {
            _ = try await store.append(
                SampleEvents.make(1, label: "stale"), to: stream, expecting: .exactly(StreamVersion(9)))
        }
        let appended = try await store.append(
            SampleEvents.make(2, label: "after"), to: stream, expecting: .exactly(StreamVersion(10)))
        #expect(appended.firstPosition == GlobalPosition(31) && appended.streamVersion == StreamVersion(12))
        let fresh = try await store.append(
            SampleEvents.make(1, label: "new"), to: StreamName("user-new"), expecting: .noStream)
        #expect(fresh.streamVersion == StreamVersion(1) && fresh.lastPosition == GlobalPosition(33))
        let events = try await store.read(stream: stream)
        #expect(events.map(\.streamVersion.rawValue) == Array(1...12))
        #expect(events.last?.position == GlobalPosition(32))
        let final = try await store.verify()
        #expect(final.eventCount == 33 && final.streamCount == 4)
        // Opening it again changes nothing.
        let again = try await PostgresEventStore.open(location, options: .init(create: false))
        again.close()
        #expect(try schemaVersion(location) == "2")
        try TestServer.psql("DROP SCHEMA \"\(location.schema)\" CASCADE")
    }

    @Test func aRoleThatDoesNotOwnTheTablesIsToldWhichCommandMigrates() async throws {
        let (location, _) = try await version1Log()
        let role = "mig_\(UInt32.random(in: 0...UInt32.max))"
        let password = "pw\(UInt32.random(in: 0...UInt32.max))"
        let schema = "\"\(location.schema)\""
        // The privileges docs/postgres.md recommends for an application role: enough to use a log, not to alter it.
        try TestServer.psql(
            "CREATE ROLE \(role) LOGIN PASSWORD '\(password)'; GRANT USAGE ON SCHEMA \(schema) TO \(role); "
                + "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA \(schema) TO \(role)")
        var limited = location
        limited.user = role
        limited.password = password
        do {
            let store = try await PostgresEventStore.open(limited, options: .init(create: false))
            store.close()
            Issue.record("a role that does not own the tables migrated the log")
        } catch {
            let text = error.description
            #expect(
                text.contains("format 1") && text.contains("cumulus init --store") && text.contains(role)
                    && text.contains("left untouched") && !text.contains(password) && !text.contains("\n"),
                "\(text)")
        }
        #expect(try schemaVersion(location) == "1" && hasStreamsTable(location))
        // The owner's open migrates it.
        let store = try await PostgresEventStore.open(location, options: .init(create: false))
        store.close()
        #expect(try schemaVersion(location) == "2" && !hasStreamsTable(location))
        try TestServer.psql(
            "REVOKE ALL ON ALL TABLES IN SCHEMA \(schema) FROM \(role); REVOKE USAGE ON SCHEMA \(schema) FROM \(role); "
                + "DROP ROLE \(role); DROP SCHEMA \(schema) CASCADE")
    }
}
