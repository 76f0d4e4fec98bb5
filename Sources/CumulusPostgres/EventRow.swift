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

/// Many new rows of the `events` table in the binary format of `COPY … FROM STDIN`, written straight into one
/// buffer and sent with one `COPY` (docs/postgres.md, *Writing*).
///
/// `COPY` was chosen over `INSERT … SELECT FROM unnest(…)` with one array parameter per column: a profile of
/// the bulk import (`cumulus-bench postgres --only p3`) had the arrays' generic encoding in the client and the
/// server's array parsing as a large part of each batch; rows for `COPY` cost one pass over the bytes on each side.
/// The binary format rather than the text one: the server parses no field, decodes no hex and reads no uuid from
/// text (`Benchmarks/postgres/copy-format.sh`: 65.8 against 90.6 ms per 10,000 of these rows), and the client
/// writes the payload and the link as they are instead of two hex digits a byte.
///
/// The rows are taken in chunks (``take()``) while more are written, so that the server inserts the first rows
/// of a group while the writer still decides, hashes and encodes the next ones (``copy(_:into:on:logger:)``).
struct EventColumns {
    private var rows = CopyBinaryRows()
    /// The rows written in all, those taken included.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// The bytes written since the last ``take()``.
    var pendingBytes: Int { rows.byteCount }

    mutating func append(_ event: RecordedEvent, previousInStream: GlobalPosition, link: ChainLink) {
        count += 1
        rows.row(fields: EventRow.columnNames.count)
        rows.bigint(Int64(event.position.rawValue))
        rows.text(event.stream.rawValue)
        rows.bigint(Int64(event.streamVersion.rawValue))
        rows.uuid(event.id.uuid)
        rows.text(event.type)
        rows.integer(Int32(event.schemaVersion))
        rows.text(event.actor)
        rows.bigint(event.occurredAt.microsecondsSinceEpoch)
        rows.bigint(event.recordedAt.microsecondsSinceEpoch)
        rows.uuid(event.correlationID)
        rows.uuid(event.causationID)
        rows.bigint(Int64(previousInStream.rawValue))
        rows.bytea(event.payload)
        link.withUnsafeBytes { rows.bytea($0) }  // the link in place, no array per row
    }

    /// The rows written since the last call, whole rows only; the buffer starts again empty.
    mutating func take() -> ByteBuffer {
        defer { rows = CopyBinaryRows() }
        return rows.buffer
    }

    /// The `COPY` statement for the rows ``append(_:previousInStream:link:)`` writes into `location`'s `events`, as
    /// postgres-nio's `copyFrom(table:columns:format:…)` takes it: the table name, which it puts between double
    /// quotes into `COPY "<table>" … FROM STDIN WITH (FORMAT text)`.
    ///
    /// postgres-nio 1.33 offers only the text format (`PostgresCopyFromFormat` has no binary case) and no other
    /// way to start a `COPY`, and it inserts the table name as given (its documentation says so). So the name
    /// closes the quotes itself, adds the schema and the columns, asks for the binary format, and ends the
    /// statement with a comment that swallows postgres-nio's own format clause. Nothing from a caller reaches it:
    /// the schema name is checked to be lower-case letters, digits and `_` (``PostgresLocation``), the rest is
    /// constant. Every test that appends to a PostgreSQL log goes through it; when postgres-nio gains a binary
    /// format, this becomes `copyFrom(table: …, columns: …, format: .binary)`.
    static func binaryCopyTable(in location: PostgresLocation) -> String {
        "\(location.schema)\".\"events\"(\(EventRow.columnNames.joined(separator: ", "))) FROM STDIN WITH (FORMAT binary) --"
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
        try await connection.copyFrom(table: binaryCopyTable(in: location), logger: logger) { writer in
            try await writer.write(CopyBinaryRows.header)
            for await chunk in chunks { try await writer.write(chunk) }
            try await writer.write(CopyBinaryRows.trailer)
        }
    }
}

/// Rows in the binary format of PostgreSQL's `COPY`: each row its number of fields (16 bits), then each field its
/// length in bytes (32 bits, -1 for NULL) and its value in the type's binary form — integers big-endian, `text`
/// its UTF-8 bytes, `uuid` its 16 bytes, `bytea` its bytes. The whole `COPY` starts with ``header`` and ends with
/// ``trailer``. Written into one `ByteBuffer`.
struct CopyBinaryRows: Sendable {
    /// The rows written so far.
    private(set) var buffer = ByteBuffer()

    var byteCount: Int { buffer.writerIndex }

    /// The signature `PGCOPY\n\377\r\n\0`, no flags, no header extension.
    static let header: ByteBuffer = {
        var buffer = ByteBuffer()
        buffer.writeBytes([0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00])
        buffer.writeInteger(Int32(0))
        buffer.writeInteger(Int32(0))
        return buffer
    }()

    /// A field count of -1: the end of the rows.
    static let trailer: ByteBuffer = {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(-1))
        return buffer
    }()

    /// Starts a row of `fields` fields.
    mutating func row(fields: Int) {
        buffer.writeInteger(Int16(truncatingIfNeeded: fields))
    }

    /// A `bigint`.
    mutating func bigint(_ value: Int64) {
        buffer.writeInteger(Int32(8))
        buffer.writeInteger(value)
    }

    /// An `integer`.
    mutating func integer(_ value: Int32) {
        buffer.writeInteger(Int32(4))
        buffer.writeInteger(value)
    }

    /// A `text`: its UTF-8 bytes.
    mutating func text(_ value: String) {
        var value = value
        value.withUTF8 { bytes in
            buffer.writeInteger(Int32(truncatingIfNeeded: bytes.count))
            buffer.writeBytes(bytes)
        }
    }

    /// A `uuid`: its 16 bytes, or NULL.
    mutating func uuid(_ value: UUID?) {
        guard let value else {
            buffer.writeInteger(Int32(-1))
            return
        }
        buffer.writeInteger(Int32(16))
        _ = withUnsafeBytes(of: value.uuid) { buffer.writeBytes($0) }
    }

    /// A `bytea`: its bytes.
    mutating func bytea(_ bytes: some Collection<UInt8>) {
        buffer.writeInteger(Int32(truncatingIfNeeded: bytes.count))
        buffer.writeBytes(bytes)
    }
}
