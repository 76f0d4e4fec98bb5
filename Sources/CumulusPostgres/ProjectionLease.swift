public import CumulusLog
import Logging
import NIOCore
import PostgresNIO

/// The right to advance one shared projection checkpoint: at most one worker of all processes holds it.
///
/// Several servers on one log may each run a projection whose checkpoint they share. The lease is a
/// PostgreSQL session advisory lock held by a connection of its own; it is released when the holder releases it,
/// or when its connection ends — a killed worker's lease passes to the next at once. Advancing is also fenced:
/// ``advance(from:to:)`` writes the new checkpoint only if the stored one is still the one the holder started
/// from, on the lease's own connection, so a holder that lost its lease (its connection dropped while it kept
/// working) cannot overwrite a successor's progress.
///
/// Keep the projection's state in the checkpoint (or in the same transaction): a batch then counts once — either
/// its checkpoint was saved, or the next holder applies it again from the saved state.
///
/// ```swift
/// let lease = try await store.acquireLease("licence-counters")
/// var checkpoint = try await lease.checkpoint()
/// let batch = try await store.readAll(after: checkpoint?.position ?? .start, maximumCount: 1000)
/// try await lease.advance(from: checkpoint, to: Checkpoint(name: …, position: batch.last!.position, state: …))
/// ```
///
/// `Sendable`: its connection is thread-safe and every other property is a constant.
public final class ProjectionLease: Sendable {
    /// The checkpoint the lease guards.
    public let name: String
    let connection: PostgresConnection
    let location: PostgresLocation
    let logger: Logger

    init(name: String, connection: PostgresConnection, location: PostgresLocation, logger: Logger) {
        self.name = name
        self.connection = connection
        self.location = location
        self.logger = logger
    }

    /// The advisory-lock key of a lease: a 64-bit hash of the schema and the checkpoint's name.
    static func key(_ name: String, in location: PostgresLocation) -> String {
        "cumulus:\(location.schema):lease:\(name)"
    }

    /// Refuses to use a lease whose connection is gone (released, or dropped by the server): the advisory lock
    /// went with it, so another worker may hold the lease now. Checked before every statement, so that a call on
    /// a released lease fails at once with this sentence instead of waiting on a closed connection. A connection
    /// that ends between this check and the statement is no hole: the advisory lock and the statements share that
    /// one session (a `PostgresConnection` never reconnects), so the statement then fails instead of running
    /// without the lock, and ``advance(from:to:)`` is fenced by the stored position besides.
    private func requireHeld(_ operation: String) throws(EventStoreError) {
        guard connection.isClosed else { return }
        throw .storage(
            operation: "\(operation) under lease '\(name)' on \(location)", code: 0,
            message: "the lease was released or its connection ended; acquire the lease again")
    }

    /// The checkpoint as stored now, read on the lease's connection.
    public func checkpoint() async throws(EventStoreError) -> Checkpoint? {
        try requireHeld("read the checkpoint")
        let (connection, location, logger, name) = (self.connection, self.location, self.logger, self.name)
        do {
            let rows = try await connection.query(
                """
                SELECT name, position, state, checksum FROM \(unescaped: location.table("checkpoints"))
                WHERE name = \(name)
                """,
                logger: logger
            ).collect()
            return try rows.first.map(PostgresEventStore.decodeCheckpoint)
        } catch {
            throw PostgresFailure.storeError(error, "read checkpoint '\(name)' under its lease", at: location)
        }
    }

    /// Saves `new` if the stored checkpoint is still `old` (by position; nil: none saved yet).
    /// - Throws: `EventStoreError.wrongExpectedVersion(stream:expected:actual:)` naming `lease:<name>` when
    ///   another worker advanced it (this worker lost its lease); a storage error when the lease's connection
    ///   is gone — stop and acquire the lease again.
    public func advance(from old: Checkpoint?, to new: Checkpoint) async throws(EventStoreError) {
        guard new.name == name else {
            throw .invalidField(field: "checkpoint name", reason: "the lease guards '\(name)', not '\(new.name)'")
        }
        try requireHeld("advance the checkpoint")
        let (connection, location, logger) = (self.connection, self.location, self.logger)
        let position = Int64(clamping: new.position.rawValue)
        let expected = old.map { Int64(clamping: $0.position.rawValue) } ?? -1
        let state = ByteBuffer(bytes: new.state)
        let checksum = ByteBuffer(bytes: PostgresEventStore.checksum(new))
        let stored: Int64
        do {
            try await connection.query("BEGIN", logger: logger)
            do {
                let rows = try await connection.query(
                    """
                    SELECT position FROM \(unescaped: location.table("checkpoints")) WHERE name = \(name) FOR UPDATE
                    """,
                    logger: logger
                ).collect()
                stored = try rows.first?.decode(Int64.self) ?? -1
                if stored == expected {
                    try await connection.query(
                        """
                        INSERT INTO \(unescaped: location.table("checkpoints")) (name, position, state, checksum)
                        VALUES (\(name), \(position), \(state), \(checksum))
                        ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state,
                            checksum = excluded.checksum
                        """,
                        logger: logger
                    )
                }
                try await connection.query("COMMIT", logger: logger)
            } catch {
                if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
                throw error
            }
        } catch {
            throw PostgresFailure.storeError(error, "advance checkpoint '\(name)'", at: location)
        }
        guard stored == expected else {
            throw .wrongExpectedVersion(
                stream: StreamName(unchecked: "lease:\(name)"),
                expected: old.map { .exactly(StreamVersion($0.position.rawValue)) } ?? .noStream,
                actual: StreamVersion(UInt64(clamping: max(stored, 0))))
        }
    }

    /// Saves a group of checkpoints the lease guards together (for example every checkpoint of one server's
    /// projections and its write model), in one transaction on the lease's connection.
    ///
    /// Each checkpoint is written only when the stored one with its name is not ahead of it, so a new holder
    /// that lags behind its predecessor never moves a checkpoint back. The write is fenced by the connection:
    /// the advisory lock lives exactly as long as the lease's session, so a statement that succeeds on it was
    /// run by the holder. Calls on one lease must not overlap (its one connection runs one transaction at a time).
    /// - Returns: how many checkpoints were written (the others were stored further on already).
    /// - Throws: `EventStoreError.invalidField(field:reason:)` for an unusable name; a storage error when
    ///   the lease's connection is gone (the lease is lost: stop and acquire it again).
    @discardableResult
    public func advance(group checkpoints: [Checkpoint]) async throws(EventStoreError) -> Int {
        for checkpoint in checkpoints {
            let length = checkpoint.name.utf8.count
            guard length > 0 && length <= 255, !checkpoint.name.utf8.contains(0) else {
                throw .invalidField(
                    field: "checkpoint name", reason: "must be 1 to 255 bytes without NUL, is \(length)")
            }
        }
        try requireHeld("save the checkpoints")
        let (connection, location, logger) = (self.connection, self.location, self.logger)
        var written = 0
        do {
            try await connection.query("BEGIN", logger: logger)
            do {
                for checkpoint in checkpoints {
                    let position = Int64(clamping: checkpoint.position.rawValue)
                    let state = ByteBuffer(bytes: checkpoint.state)
                    let checksum = ByteBuffer(bytes: PostgresEventStore.checksum(checkpoint))
                    let rows = try await connection.query(
                        """
                        INSERT INTO \(unescaped: location.table("checkpoints")) AS stored (name, position, state, checksum)
                        VALUES (\(checkpoint.name), \(position), \(state), \(checksum))
                        ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state,
                            checksum = excluded.checksum
                        WHERE stored.position <= excluded.position
                        RETURNING 1
                        """,
                        logger: logger
                    ).collect()
                    written += rows.count
                }
                try await connection.query("COMMIT", logger: logger)
            } catch {
                if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
                throw error
            }
        } catch {
            throw PostgresFailure.storeError(error, "save the checkpoints under lease '\(name)'", at: location)
        }
        return written
    }

    /// Whether the lease's connection is gone (and with it the lease).
    public var isLost: Bool { connection.isClosed }

    /// Releases the lease (closing its connection); another worker may take it at once.
    public func release() async {
        try? await connection.close()
    }
}

extension PostgresEventStore {
    /// Takes the lease on the shared checkpoint `name`, waiting (polling every `pollInterval`) while another
    /// worker holds it.
    /// - Throws: `EventStoreError.cancelled` when the task is cancelled while waiting; a storage error when the
    ///   server cannot be reached.
    public func acquireLease(
        _ name: String,
        pollInterval: Duration = .milliseconds(100)
    ) async throws(EventStoreError) -> ProjectionLease {
        while true {
            if let lease = try await tryLease(name) { return lease }
            do {
                try await Task.sleep(for: pollInterval)
            } catch {
                throw .cancelled
            }
        }
    }

    /// Takes the lease on the shared checkpoint `name` if no other worker holds it; nil otherwise.
    public func tryLease(_ name: String) async throws(EventStoreError) -> ProjectionLease? {
        let (location, tls, logger) = (self.location, self.tls, self.logger)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: Self.connectionConfiguration(location, tls), id: 2, logger: logger)
        } catch {
            throw PostgresFailure.storeError(error, "connect for lease '\(name)'", at: location)
        }
        do {
            let key = ProjectionLease.key(name, in: location)
            let rows = try await connection.query(
                "SELECT pg_try_advisory_lock(hashtextextended(\(key), 0))", logger: logger
            ).collect()
            guard let row = rows.first, try row.decode(Bool.self) else {
                try? await connection.close()
                return nil
            }
            return ProjectionLease(name: name, connection: connection, location: location, logger: logger)
        } catch {
            try? await connection.close()
            throw PostgresFailure.storeError(error, "take lease '\(name)'", at: location)
        }
    }
}
