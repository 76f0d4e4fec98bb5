public import CumulusLog
import Logging
import NIOCore
import PostgresNIO

extension PostgresEventStore {
    /// Walks the whole log in one snapshot (`REPEATABLE READ`) and checks everything that can be checked:
    ///
    /// - every position from 1 to the last is present, in order;
    /// - every row's record, rebuilt from its columns exactly as LMDB stores it, hashes to the row's chain link
    ///   after the previous one — so a row altered with `psql` breaks the chain at its position;
    /// - every stream's versions run 1, 2, 3… and each back-link names the stream's previous event;
    /// - the `head` row names the last event and its link;
    /// - every checkpoint matches its checksum.
    ///
    /// - Throws: `EventStoreError.integrityViolation(position:reason:)` naming the first damaged position.
    public func verify(progress: (@Sendable (UInt64) -> Void)?) async throws(EventStoreError) -> VerificationReport {
        let (client, location, logger) = (self.client, self.location, self.logger)
        return try await run("verify") {
            try await client.withConnection { connection in
                try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
                do {
                    let report = try await Self.verify(connection, location, logger: logger, progress: progress)
                    try await connection.query("ROLLBACK", logger: logger)
                    return report
                } catch {
                    if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
                    throw error
                }
            }
        }
    }

    private static func verify(
        _ connection: PostgresConnection,
        _ location: PostgresLocation,
        logger: Logger,
        progress: (@Sendable (UInt64) -> Void)?
    ) async throws -> VerificationReport {
        var link = ChainLink.genesis
        var expectedPosition: UInt64 = 1
        var heads: [StreamName: (version: UInt64, lastPosition: UInt64)] = [:]
        var buffer: [UInt8] = []
        let batch: Int64 = 10_000
        while true {
            let after = Int64(expectedPosition - 1)
            let rows = try await connection.query(
                """
                SELECT \(unescaped: EventRow.columns) FROM \(unescaped: location.table("events"))
                WHERE position > \(after) ORDER BY position LIMIT \(batch)
                """,
                logger: logger
            ).collect()
            if rows.isEmpty { break }
            for row in rows {
                let record: EventRow
                do {
                    record = try EventRow.decode(row)
                } catch let error as EventStoreError {
                    throw error
                } catch {
                    throw EventStoreError.integrityViolation(
                        position: GlobalPosition(expectedPosition), reason: "the row does not decode: \(error)")
                }
                let event = record.event
                let here = event.position
                guard here.rawValue == expectedPosition else {
                    throw EventStoreError.integrityViolation(
                        position: GlobalPosition(expectedPosition),
                        reason: "the event at this position is missing (the next stored is \(here))")
                }
                guard record.expectedLink(after: link, buffer: &buffer) == record.link else {
                    throw EventStoreError.integrityViolation(
                        position: here, reason: "the hash chain breaks: the row was altered")
                }
                let previous = heads[event.stream] ?? (0, 0)
                guard event.streamVersion.rawValue == previous.version + 1,
                    record.previousInStream.rawValue == previous.lastPosition
                else {
                    throw EventStoreError.integrityViolation(
                        position: here,
                        reason: "stream '\(event.stream)' continues at version \(event.streamVersion) after "
                            + "\(previous.version)")
                }
                heads[event.stream] = (previous.version + 1, here.rawValue)
                link = record.link
                expectedPosition += 1
                if here.rawValue % 65_536 == 0 { progress?(here.rawValue) }
            }
        }
        let last = expectedPosition - 1
        progress?(last)
        let head = try await connection.query(
            "SELECT last_position, link FROM \(unescaped: location.table("head"))", logger: logger
        ).collect()
        guard let headRow = head.first else {
            throw EventStoreError.integrityViolation(position: nil, reason: "the head row is missing")
        }
        let (headPosition, headLink) = try headRow.decode((Int64, ByteBuffer).self)
        let expectedHeadLink = last == 0 ? ChainLink.genesis.bytes : link.bytes
        guard headPosition == Int64(last), Array(headLink.readableBytesView) == expectedHeadLink else {
            throw EventStoreError.integrityViolation(
                position: GlobalPosition(last),
                reason: "the head row (position \(headPosition)) does not match the last event")
        }
        let streamCount = UInt64(heads.count)
        var checkpoints = 0
        let saved = try await connection.query(
            "SELECT name, position, state, checksum FROM \(unescaped: location.table("checkpoints"))", logger: logger
        ).collect()
        for row in saved {
            _ = try decodeCheckpoint(row)
            checkpoints += 1
        }
        return VerificationReport(
            eventCount: last, streamCount: streamCount, lastPosition: GlobalPosition(last),
            headLink: last == 0 ? "" : link.description, checkpointCount: checkpoints)
    }
}
