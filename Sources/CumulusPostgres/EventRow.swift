import CumulusLog
import Foundation
import Logging
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

    /// ``columns`` one by one, for `COPY`.
    static let columnNames = columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }

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

/// Many new rows of the `events` table in the text format of `COPY … FROM STDIN`, written straight into one
/// buffer and sent with one `COPY` (docs/postgres.md, *Writing*).
///
/// `COPY` was chosen over `INSERT … SELECT FROM unnest(…)` with one array parameter per column: a profile of
/// the bulk import (`cumulus-bench postgres --only p3`) had the arrays' generic encoding in the client and the
/// server's array parsing as a large part of each batch; the text rows cost one pass over the bytes on each side.
///
/// The rows are taken in chunks (``take()``) while more are written, so that the server inserts the first rows
/// of a group while the writer still decides, hashes and encodes the next ones (``copy(_:into:on:logger:)``).
struct EventColumns {
    private var rows = CopyTextRows()
    /// The rows written in all, those taken included.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// The bytes written since the last ``take()``.
    var pendingBytes: Int { rows.byteCount }

    mutating func append(_ event: RecordedEvent, previousInStream: GlobalPosition, link: ChainLink) {
        count += 1
        rows.integer(Int64(event.position.rawValue))
        rows.text(event.stream.rawValue)
        rows.integer(Int64(event.streamVersion.rawValue))
        rows.uuid(event.id.uuid)
        rows.text(event.type)
        rows.integer(Int64(event.schemaVersion))
        rows.text(event.actor)
        rows.integer(event.occurredAt.microsecondsSinceEpoch)
        rows.integer(event.recordedAt.microsecondsSinceEpoch)
        rows.uuid(event.correlationID)
        rows.uuid(event.causationID)
        rows.integer(Int64(previousInStream.rawValue))
        rows.bytea(event.payload)
        link.withUnsafeBytes { rows.bytea($0, last: true) }  // the link in place, no array per row
    }

    /// The rows written since the last call, whole rows only; the buffer starts again empty.
    mutating func take() -> ByteBuffer {
        defer { rows = CopyTextRows() }
        return rows.buffer
    }

    /// Sends the chunks of rows that `chunks` delivers, in order, with one `COPY` into the log's `events` table,
    /// inside the caller's transaction, until the stream ends. A group that stages no row (every append refused
    /// or already stored) sends an empty `COPY`: one round trip, rather than a second signal to wait for.
    static func copy(
        _ chunks: AsyncStream<ByteBuffer>,
        into location: PostgresLocation,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        // postgres-nio quotes the table name as one identifier: the schema comes from the transaction's path.
        try await connection.query(
            PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \"\(location.schema)\""), logger: logger)
        try await connection.copyFrom(table: "events", columns: EventRow.columnNames, logger: logger) { writer in
            for await chunk in chunks { try await writer.write(chunk) }
        }
    }
}

/// Rows in the text format of PostgreSQL's `COPY`: fields separated by a tab, rows ended by a newline, `\N` for
/// NULL, backslash escapes in text, `bytea` in hex. Written byte by byte into one `ByteBuffer`.
struct CopyTextRows: Sendable {
    /// The rows written so far.
    private(set) var buffer = ByteBuffer()

    var byteCount: Int { buffer.writerIndex }

    /// Hex digits, lower case.
    private static func digit(_ value: UInt8) -> UInt8 { value < 10 ? 0x30 + value : 0x57 + value }

    /// Writes one field of at most `maximum` bytes and its separator (a newline when `last`): `body` writes the
    /// field into the buffer's free space and returns how many bytes it wrote.
    private mutating func field(
        maximum: Int, last: Bool, _ body: (UnsafeMutableRawBufferPointer) -> Int
    ) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: maximum + 1) { target in
            let count = body(target)
            target[count] = last ? 0x0A : 0x09
            return count + 1
        }
    }

    /// A decimal integer; `last` ends the row.
    mutating func integer(_ value: Int64, last: Bool = false) {
        field(maximum: 20, last: last) { target in
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch for up to 19 digits
            return withUnsafeMutableBytes(of: &digits) { scratch in
                var magnitude = value.magnitude
                var index = scratch.count
                repeat {
                    index -= 1
                    scratch[index] = 0x30 + UInt8(truncatingIfNeeded: magnitude % 10)
                    magnitude /= 10
                } while magnitude > 0
                var count = 0
                if value < 0 {
                    target[0] = UInt8(ascii: "-")
                    count = 1
                }
                for byte in scratch[index...] {
                    target[count] = byte
                    count += 1
                }
                return count
            }
        }
    }

    /// Text, with the four characters `COPY` gives a meaning to escaped (backslash, tab, newline, return).
    mutating func text(_ value: String, last: Bool = false) {
        var value = value
        value.withUTF8 { bytes in
            field(maximum: bytes.count * 2, last: last) { target in
                var count = 0
                for byte in bytes {
                    let escape: UInt8
                    switch byte {
                    case 0x5C: escape = 0x5C  // backslash
                    case 0x09: escape = UInt8(ascii: "t")
                    case 0x0A: escape = UInt8(ascii: "n")
                    case 0x0D: escape = UInt8(ascii: "r")
                    default:
                        target[count] = byte
                        count += 1
                        continue
                    }
                    target[count] = 0x5C
                    target[count + 1] = escape
                    count += 2
                }
                return count
            }
        }
    }

    /// A uuid in its hyphenated form, or NULL (`\N`).
    mutating func uuid(_ value: UUID?, last: Bool = false) {
        field(maximum: 36, last: last) { target in
            guard let value else {
                target[0] = 0x5C
                target[1] = UInt8(ascii: "N")
                return 2
            }
            return withUnsafeBytes(of: value.uuid) { bytes in
                var count = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        target[count] = UInt8(ascii: "-")
                        count += 1
                    }
                    target[count] = Self.digit(bytes[index] >> 4)
                    target[count + 1] = Self.digit(bytes[index] & 0x0F)
                    count += 2
                }
                return count
            }
        }
    }

    /// Bytes as a `bytea` in hex: `\\x` (the backslash escaped for `COPY`) and two digits a byte.
    mutating func bytea(_ bytes: some Collection<UInt8>, last: Bool = false) {
        field(maximum: 3 + bytes.count * 2, last: last) { target in
            target[0] = 0x5C
            target[1] = 0x5C
            target[2] = UInt8(ascii: "x")
            var count = 3
            for byte in bytes {
                target[count] = Self.digit(byte >> 4)
                target[count + 1] = Self.digit(byte & 0x0F)
                count += 2
            }
            return count
        }
    }
}
