import CumulusLog
import CumulusPostgres
import CumulusTesting
import Foundation
import Testing

/// A log of schema version 1 (with its `streams` table) or 2 (a `UNIQUE (stream, version)` B-tree on the name) opens
/// under version 3: it is migrated in place, keeps its events, chain head and checkpoints, and takes new appends
/// with the same checks; a role that may not migrate it is told which command does, and the log is left as it was
/// (docs/postgres.md, "Schema").
@Suite("PostgreSQL schema migration", .enabled(if: TestServer.enabled, TestServer.skipReason))
struct MigrationTests {
    /// The statements schema version 1 created a log with, as Cumulus ran them (PostgresSchema, version 1).
    ///
    /// A frozen copy on purpose, not derived from `PostgresSchema.creation`: the migration must keep working on the
    /// layout version 1 really wrote, whatever later versions change in theirs.
    static func version1Creation(_ schema: String) -> [String] {
        version1And2Creation(schema, version: 1)
    }

    /// Version 2's statements: version 1's without the `streams` table (schema version 2 changed nothing else).
    static func version2Creation(_ schema: String) -> [String] {
        version1And2Creation(schema, version: 2)
    }

    private static func version1And2Creation(_ schema: String, version: Int) -> [String] {
        let zeros = String(repeating: "00", count: 32)
        let table = { (name: String) in "\"\(schema)\".\"\(name)\"" }
        return [
            "CREATE SCHEMA IF NOT EXISTS \"\(schema)\"",
            "CREATE TABLE \(table("meta")) (key text PRIMARY KEY, value text NOT NULL)",
            "INSERT INTO \(table("meta")) (key, value) VALUES ('schema_version', '\(version)')",
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
        ]
            + (version == 1
                ? [
                    """
                    CREATE TABLE \(table("streams")) (
                        stream text PRIMARY KEY,
                        version bigint NOT NULL,
                        last_position bigint NOT NULL
                    )
                    """
                ] : [])
            + [
                """
                CREATE TABLE \(table("checkpoints")) (
                    name text PRIMARY KEY,
                    position bigint NOT NULL,
                    state bytea NOT NULL,
                    checksum bytea NOT NULL
                )
                """
            ]
    }

    /// A version 1 or 2 log holding 30 events over 3 streams and a checkpoint: that version's tables, filled with the
    /// rows of a log written by this Cumulus (the events' columns, the head's position and link and the checkpoints
    /// are the same in every version) and, for version 1, the `streams` rows its writer kept. Returns its location
    /// and its verification.
    func oldLog(version: Int) async throws -> (PostgresLocation, VerificationReport) {
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
        location.schema = TestServer.freshSchema("v\(version)")
        let from = { (name: String) in "\"\(source.location.schema)\".\"\(name)\"" }
        let into = { (name: String) in "\"\(location.schema)\".\"\(name)\"" }
        let columns =
            "position, stream, version, id, type, schema_version, actor, occurred_at, recorded_at, correlation_id, "
            + "causation_id, previous_in_stream, payload, link"
        var statements = version == 1 ? Self.version1Creation(location.schema) : Self.version2Creation(location.schema)
        statements += [
            "INSERT INTO \(into("events")) (\(columns)) SELECT \(columns) FROM \(from("events"))",
            "UPDATE \(into("head")) SET (last_position, link) = (SELECT last_position, link FROM \(from("head")))",
            "INSERT INTO \(into("checkpoints")) SELECT * FROM \(from("checkpoints"))",
        ]
        if version == 1 {
            statements.append(
                """
                INSERT INTO \(into("streams")) (stream, version, last_position)
                SELECT stream, max(version), max(position) FROM \(into("events")) GROUP BY stream
                """)
        }
        statements.append("DROP SCHEMA \"\(source.location.schema)\" CASCADE")
        try TestServer.psql("BEGIN; " + statements.joined(separator: "; ") + "; COMMIT")
        return (location, report)
    }

    func schemaVersion(_ location: PostgresLocation) throws -> String {
        try TestServer.psql("SELECT value FROM \"\(location.schema)\".meta WHERE key = 'schema_version'")
    }

    func hasStreamsTable(_ location: PostgresLocation) throws -> Bool {
        try TestServer.psql("SELECT to_regclass('\"\(location.schema)\".streams') IS NOT NULL") == "t"
    }

    /// The `events` table's indexes, by name, and whether each is unique.
    func indexes(_ location: PostgresLocation) throws -> String {
        try TestServer.psql(
            """
            SELECT string_agg(indexname || ':' || (indexdef LIKE 'CREATE UNIQUE%')::text, ',' ORDER BY indexname)
            FROM pg_indexes WHERE schemaname = '\(location.schema)' AND tablename = 'events'
            """)
    }

    /// The `events` table's columns in order, with their types and generation expressions.
    func columns(_ location: PostgresLocation) throws -> String {
        try TestServer.psql(
            """
            SELECT string_agg(column_name || ' ' || data_type || ' ' || coalesce(generation_expression, ''), ', '
                ORDER BY ordinal_position)
            FROM information_schema.columns WHERE table_schema = '\(location.schema)' AND table_name = 'events'
            """)
    }

    @Test(arguments: [1, 2]) func anOldLogIsMigratedWhenOpenedAndKeepsItsHistory(version: Int) async throws {
        let (location, before) = try await oldLog(version: version)
        #expect(try schemaVersion(location) == "\(version)" && hasStreamsTable(location) == (version == 1))
        #expect(try indexes(location).contains("events_stream_version_key:true"))
        let store = try await PostgresEventStore.open(location, options: .init(create: false))
        defer { store.close() }
        #expect(try schemaVersion(location) == "3")
        #expect(try !hasStreamsTable(location))
        let migrated = try indexes(location)
        #expect(migrated == "events_id_key:true,events_pkey:true,events_stream_key_version:false", "\(migrated)")
        // Every row got its key, computed by the server from its stream.
        let keyed = try TestServer.psql(
            "SELECT count(*) FILTER (WHERE stream_key = hashtextextended(stream, 0))::text || '/' || count(*)::text "
                + "FROM \"\(location.schema)\".events")
        #expect(keyed == "30/30", "\(keyed)")
        // The migrated table is the one a new log gets: the same columns, in the same order, and the same indexes.
        let newLog = try await TestServer.freshStore("v3")
        newLog.close()
        #expect(try columns(location) == columns(newLog.location))
        #expect(try indexes(newLog.location) == migrated)
        try TestServer.psql("DROP SCHEMA \"\(newLog.location.schema)\" CASCADE")
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
        // An id stored before the migration is still found: the same id with the same content is answered from
        // the log, with other content refused.
        let old = try #require(events.first)
        let retry = ProposedEvent(
            id: old.id, type: old.type, schemaVersion: old.schemaVersion, occurredAt: old.occurredAt,
            actor: old.actor, correlationID: old.correlationID, causationID: old.causationID, payload: old.payload)
        let repeated = try await store.append([retry], to: stream, expecting: .any)
        #expect(repeated.wasAlreadyStored && repeated.lastPosition == old.position)
        var changed = retry
        changed.payload += [1]
        await #expect(throws: EventStoreError.eventIDConflict(id: old.id, storedAt: old.position)) {
            _ = try await store.append([changed], to: stream, expecting: .any)
        }
        let again = try await PostgresEventStore.open(location, options: .init(create: false))
        again.close()
        #expect(try schemaVersion(location) == "3")
        try TestServer.psql("DROP SCHEMA \"\(location.schema)\" CASCADE")
    }

    @Test func aRoleThatDoesNotOwnTheTablesIsToldWhichCommandMigrates() async throws {
        let (location, _) = try await oldLog(version: 1)
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
        #expect(try schemaVersion(location) == "3" && !hasStreamsTable(location))
        try TestServer.psql(
            "REVOKE ALL ON ALL TABLES IN SCHEMA \(schema) FROM \(role); REVOKE USAGE ON SCHEMA \(schema) FROM \(role); "
                + "DROP ROLE \(role); DROP SCHEMA \(schema) CASCADE")
    }
}
