import CumulusLog
import Foundation
import NIOCore
import PostgresNIO

/// One row of the `events` table as the store reads and writes it, and its record bytes.
///
/// The columns hold exactly the fields of the LMDB record (``RecordCodec``), so the record — and with it the
/// chain link — can be rebuilt from a row: that is how `verify` notices a row altered behind the log's back.
struct EventRow: Sendable {
    var event: RecordedEvent
    var previousInStream: GlobalPosition
    var link: ChainLink

    /// The columns, in the order ``decode(_:)`` reads them.
    static let columns =
        "position, stream, version, id, type, schema_version, actor, occurred_at, recorded_at, correlation_id, "
        + "causation_id, previous_in_stream, payload, link"

    /// Reads a row selected with ``columns``.
    static func decode(_ row: PostgresRow) throws -> EventRow {
        let (
            position, stream, version, id, type, schemaVersion, actor, occurredAt, recordedAt, correlation, causation,
            previous, payload, link
        ) = try row.decode(
            (
                Int64, String, Int64, UUID, String, Int32, String, Int64, Int64, UUID?, UUID?, Int64, ByteBuffer,
                ByteBuffer
            ).self
        )
        let here = GlobalPosition(UInt64(clamping: position))
        guard link.readableBytes == 32, let linkBytes = link.getBytes(at: link.readerIndex, length: 32) else {
            throw EventStoreError.integrityViolation(position: here, reason: "the chain link is not 32 bytes")
        }
        guard schemaVersion >= 0, schemaVersion <= Int32(UInt16.max) else {
            throw EventStoreError.integrityViolation(position: here, reason: "schema version \(schemaVersion)")
        }
        let event = RecordedEvent(
            id: EventID(id),
            stream: StreamName(unchecked: stream),
            streamVersion: StreamVersion(UInt64(clamping: version)),
            position: here,
            type: type,
            schemaVersion: UInt16(schemaVersion),
            occurredAt: Timestamp(microsecondsSinceEpoch: occurredAt),
            recordedAt: Timestamp(microsecondsSinceEpoch: recordedAt),
            actor: actor,
            correlationID: correlation,
            causationID: causation,
            payload: Array(payload.readableBytesView)
        )
        return EventRow(
            event: event, previousInStream: GlobalPosition(UInt64(clamping: previous)),
            link: ChainLink(bytes: linkBytes))
    }

    /// The event as a writer proposed it (what the record encodes besides its place).
    var proposed: ProposedEvent {
        ProposedEvent(
            id: event.id,
            type: event.type,
            schemaVersion: event.schemaVersion,
            occurredAt: event.occurredAt,
            actor: event.actor,
            correlationID: event.correlationID,
            causationID: event.causationID,
            payload: event.payload
        )
    }

    /// The link this row should carry after `previous`: the LMDB record rebuilt from the columns, hashed.
    func expectedLink(after previous: ChainLink, buffer: inout [UInt8]) -> ChainLink {
        RecordCodec.encode(
            proposed,
            stream: event.stream,
            version: event.streamVersion,
            previousInStream: previousInStream,
            recordedAt: event.recordedAt,
            position: event.position,
            previousLink: previous,
            into: &buffer
        )
    }
}

/// The columns of many new rows, as arrays bound to one `INSERT … SELECT FROM unnest(…)`.
struct EventColumns {
    var positions: [Int64] = []
    var streams: [String] = []
    var versions: [Int64] = []
    var ids: [UUID] = []
    var types: [String] = []
    var schemaVersions: [Int32] = []
    var actors: [String] = []
    var occurredAt: [Int64] = []
    var recordedAt: [Int64] = []
    var hasCorrelation: [Bool] = []
    var correlations: [UUID] = []
    var hasCausation: [Bool] = []
    var causations: [UUID] = []
    var previous: [Int64] = []
    var payloads: [ByteBuffer] = []
    var links: [ByteBuffer] = []

    var isEmpty: Bool { positions.isEmpty }
    var count: Int { positions.count }

    private static let noID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// Drops the rows after the first `count` (a refused copy's rows).
    mutating func truncate(to count: Int) {
        guard count < positions.count else { return }
        let drop = positions.count - count
        positions.removeLast(drop)
        streams.removeLast(drop)
        versions.removeLast(drop)
        ids.removeLast(drop)
        types.removeLast(drop)
        schemaVersions.removeLast(drop)
        actors.removeLast(drop)
        occurredAt.removeLast(drop)
        recordedAt.removeLast(drop)
        hasCorrelation.removeLast(drop)
        correlations.removeLast(drop)
        hasCausation.removeLast(drop)
        causations.removeLast(drop)
        previous.removeLast(drop)
        payloads.removeLast(drop)
        links.removeLast(drop)
    }

    mutating func append(_ event: RecordedEvent, previousInStream: GlobalPosition, link: ChainLink) {
        positions.append(Int64(event.position.rawValue))
        streams.append(event.stream.rawValue)
        versions.append(Int64(event.streamVersion.rawValue))
        ids.append(event.id.uuid)
        types.append(event.type)
        schemaVersions.append(Int32(event.schemaVersion))
        actors.append(event.actor)
        occurredAt.append(event.occurredAt.microsecondsSinceEpoch)
        recordedAt.append(event.recordedAt.microsecondsSinceEpoch)
        hasCorrelation.append(event.correlationID != nil)
        correlations.append(event.correlationID ?? Self.noID)
        hasCausation.append(event.causationID != nil)
        causations.append(event.causationID ?? Self.noID)
        previous.append(Int64(previousInStream.rawValue))
        payloads.append(ByteBuffer(bytes: event.payload))
        links.append(ByteBuffer(bytes: link.bytes))
    }

    /// The statement inserting every row at once.
    func insert(into location: PostgresLocation) -> PostgresQuery {
        """
        INSERT INTO \(unescaped: location.table("events")) (\(unescaped: EventRow.columns))
        SELECT p, s, v, i, t, sv, a, o, r, CASE WHEN hc THEN c END, CASE WHEN hk THEN k END, pr, pl, l
        FROM unnest(\(positions)::bigint[], \(streams)::text[], \(versions)::bigint[], \(ids)::uuid[],
            \(types)::text[], \(schemaVersions)::integer[], \(actors)::text[], \(occurredAt)::bigint[],
            \(recordedAt)::bigint[], \(hasCorrelation)::boolean[], \(correlations)::uuid[], \(hasCausation)::boolean[],
            \(causations)::uuid[], \(previous)::bigint[], \(payloads)::bytea[], \(links)::bytea[])
            AS u(p, s, v, i, t, sv, a, o, r, hc, c, hk, k, pr, pl, l)
        """
    }
}
