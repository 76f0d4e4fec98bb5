import CumulusLog
import Logging
import PostgresNIO

/// The tables of a log in its PostgreSQL schema, and the checks made when a store opens it.
///
/// Schema version 3 (docs/postgres.md explains each column):
/// - `meta(key, value)`: `schema_version` = 3;
/// - `head`: one row, the last position and the chain link after it — the row every writer locks;
/// - `events`: one row per event, the record's fields as columns and its chain link, plus `stream_key`, a 64-bit
///   hash of the stream name that PostgreSQL computes (`hashtextextended(stream, 0)`, a stored generated column);
///   a stream's rows are found through the index on `(stream_key, version)`, their `stream` compared;
/// - `checkpoints`: projection checkpoints with a SHA-256 checksum.
///
/// The stream index is not `UNIQUE` (two streams may share a key): a stream's versions are unique because every
/// writer of every process assigns them under the `head` row lock, after reading the stream's head — the rule that
/// also keeps positions gap-free — and `verify` checks that every stream's versions run 1, 2, 3…. Version 2 had
/// `UNIQUE (stream, version)`, a B-tree on the 41-byte name, which cost a bulk import 15% of the server's insert
/// (Benchmarks/postgres/key-cost.sql). Ids stay `UNIQUE`.
///
/// Version 1 also had a `streams` table, each stream's version and last position, upserted by every append. A
/// version 1 or 2 log is migrated in place when it is opened (`migrate`).
enum PostgresSchema {
    /// The schema version this Cumulus writes and reads.
    static let version: UInt32 = 3

    /// The `events` column a stream's rows are found by: a 64-bit hash of the name, computed by the server on every
    /// insert. One definition for a new log and for the migration, so that both get the same table.
    static let streamKeyColumn = "stream_key bigint GENERATED ALWAYS AS (hashtextextended(stream, 0)) STORED"

    /// The index on ``streamKeyColumn`` and the version (not unique: two streams may share a key).
    static func streamKeyIndex(_ location: PostgresLocation) -> String {
        "CREATE INDEX events_stream_key_version ON \(location.table("events")) (stream_key, version)"
    }

    /// The statements that create an empty log, in order, in one transaction.
    static func creation(_ location: PostgresLocation) -> [String] {
        let zeros = String(repeating: "00", count: 32)
        return [
            "CREATE SCHEMA IF NOT EXISTS \"\(location.schema)\"",
            "CREATE TABLE \(location.table("meta")) (key text PRIMARY KEY, value text NOT NULL)",
            "INSERT INTO \(location.table("meta")) (key, value) VALUES ('schema_version', '\(version)')",
            """
            CREATE TABLE \(location.table("head")) (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                last_position bigint NOT NULL,
                link bytea NOT NULL
            )
            """,
            "INSERT INTO \(location.table("head")) (singleton, last_position, link) VALUES (true, 0, '\\x\(zeros)')",
            """
            CREATE TABLE \(location.table("events")) (
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
                \(streamKeyColumn)
            )
            """,
            streamKeyIndex(location),
            """
            CREATE TABLE \(location.table("checkpoints")) (
                name text PRIMARY KEY,
                position bigint NOT NULL,
                state bytea NOT NULL,
                checksum bytea NOT NULL
            )
            """,
        ]
    }

    /// Checks that the schema holds a log this Cumulus can use, creating it when it is absent and `create`
    /// is set. Runs on its own connection, so that a wrong URL, password or privilege fails here, at once,
    /// with the server's reason.
    static func prepare(
        _ connection: PostgresConnection,
        _ location: PostgresLocation,
        create: Bool,
        logger: Logger
    ) async throws(EventStoreError) {
        do {
            try await connection.query("BEGIN", logger: logger)
            // Two processes creating the same log at once: the second waits here, then finds the tables.
            let key = "cumulus:\(location.schema)"
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(key)))", logger: logger)
            try await checkUsage(connection, location, logger: logger)
            let found = try await existingVersion(connection, location, logger: logger)
            switch found {
            case .some(let version) where version == 1 || version == 2:
                try await migrate(from: version, connection, location, logger: logger)
                try await connection.query("COMMIT", logger: logger)
            case .some(let version):
                try await connection.query("COMMIT", logger: logger)
                guard version == Self.version else {
                    throw EventStoreError.unsupportedFormat(
                        path: location.description, found: version, supported: Self.version)
                }
            case .none:
                let tables = try await connection.query(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = \(location.schema)", logger: logger
                ).collect()
                let count = try tables.first?.decode(Int64.self) ?? 0
                guard count == 0 else {
                    throw EventStoreError.notACumulusLog(
                        path: location.description,
                        reason: "schema '\(location.schema)' holds \(count) tables but no Cumulus meta table")
                }
                guard create else { throw EventStoreError.logNotFound(path: location.description) }
                for statement in creation(location) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("COMMIT", logger: logger)
            }
        } catch {
            if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
            throw PostgresFailure.storeError(error, "open the log", at: location)
        }
    }

    /// Migrates a version 1 or 2 log to version 3, in the caller's transaction and under its advisory lock: waits for
    /// the writers in flight (the `head` row lock, which every writer of every version takes), then
    /// - from version 1, drops the `streams` table (what version 2 did);
    /// - adds the `stream_key` column (PostgreSQL rewrites the table: the time grows with the log) and its index, and
    ///   drops the `UNIQUE (stream, version)` constraint it replaces;
    /// - sets `schema_version` to 3.
    ///
    /// The events, the chain links, the head and the checkpoints keep their values, so the chain head `verify`
    /// prints is the same. Altering a table needs the role that owns it; another role gets one sentence saying which
    /// command migrates, and the log is left as it was (the transaction rolls back).
    private static func migrate(
        from found: UInt32,
        _ connection: PostgresConnection,
        _ location: PostgresLocation,
        logger: Logger
    ) async throws {
        let events = location.table("events")
        var statements = ["SELECT 1 FROM \(location.table("head")) FOR UPDATE"]
        if found == 1 { statements.append("DROP TABLE IF EXISTS \(location.table("streams"))") }
        statements += [
            "ALTER TABLE \(events) ADD COLUMN \(streamKeyColumn)",
            streamKeyIndex(location),
            "ALTER TABLE \(events) DROP CONSTRAINT IF EXISTS events_stream_version_key",
            "UPDATE \(location.table("meta")) SET value = '\(Self.version)' WHERE key = 'schema_version'",
        ]
        do {
            for statement in statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42501" {
            throw EventStoreError.storage(
                operation: "open the log on \(location)", code: 0,
                message: "the log has format \(found), which this Cumulus migrates to format \(Self.version) when it "
                    + "opens it (altering its tables), but role \(location.user) does not own the log's tables; run "
                    + "`cumulus init --store …` once with the role that owns them — the log was left untouched")
        }
    }

    /// Refuses a schema the role may not use: the catalogue shows its tables to everyone, which would otherwise
    /// look like a schema of someone else's tables.
    private static func checkUsage(
        _ connection: PostgresConnection,
        _ location: PostgresLocation,
        logger: Logger
    ) async throws {
        let rows = try await connection.query(
            """
            SELECT has_schema_privilege(oid, 'USAGE') FROM pg_namespace WHERE nspname = \(location.schema)
            """,
            logger: logger
        ).collect()
        guard let row = rows.first, try !row.decode(Bool.self) else { return }
        throw EventStoreError.storage(
            operation: "open the log on \(location)", code: 0,
            message: "permission denied for schema \(location.schema): role \(location.user) has no USAGE on it "
                + "(SQLSTATE 42501); grant the role the privileges listed in docs/postgres.md")
    }

    /// The schema version stored in `meta`, or nil when the schema has no `meta` table.
    private static func existingVersion(
        _ connection: PostgresConnection,
        _ location: PostgresLocation,
        logger: Logger
    ) async throws -> UInt32? {
        let meta = location.table("meta")
        let exists = try await connection.query("SELECT to_regclass(\(meta))::text", logger: logger).collect()
        guard let row = exists.first, try row.decode(String?.self) != nil else { return nil }
        let rows = try await connection.query(
            "SELECT value FROM \(unescaped: meta) WHERE key = 'schema_version'", logger: logger
        ).collect()
        guard let text = try rows.first?.decode(String.self), let version = UInt32(text) else {
            throw EventStoreError.notACumulusLog(
                path: location.description, reason: "its meta table has no schema_version")
        }
        return version
    }
}
