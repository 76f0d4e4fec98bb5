import struct Foundation.UUID

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The binary form of one stored event: the envelope, the payload and the hash-chain link.
///
/// Layout (integers little-endian; offsets in bytes):
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 1 | record format, 1 |
/// | 1 | 1 | flags: bit 0 correlation id present, bit 1 causation id present |
/// | 2 | 2 | schema version |
/// | 4 | 4 | payload length |
/// | 8 | 8 | stream version |
/// | 16 | 8 | position of the stream's previous event (0 for its first): the back-link |
/// | 24 | 8 | occurredAt, µs since the epoch |
/// | 32 | 8 | recordedAt, µs since the epoch |
/// | 40 | 16 | event id |
/// | 56 | 0/16/32 | correlation id, causation id, when present |
/// | … | 1 + n | stream name (length, UTF-8) |
/// | … | 1 + n | type (length, UTF-8) |
/// | … | 1 + n | actor (length, UTF-8) |
/// | … | n | payload |
/// | end − 32 | 32 | chain link: SHA-256(previous link ‖ position as 8 bytes big-endian ‖ all bytes above) |
///
/// The position itself is the storage key, not part of the value, but it is part of the link.
package enum RecordCodec {
    package static let format: UInt8 = 1
    package static let fixedSize = 56
    package static let linkSize = 32
    /// The largest payload the log accepts: 16 MiB.
    package static let maximumPayloadSize = 16 << 20

    /// Checks what the envelope's fields must satisfy before anything is written.
    package static func validate(_ event: ProposedEvent) throws(EventStoreError) {
        let typeLength = event.type.utf8.count
        guard typeLength > 0 && typeLength <= 255 else {
            throw .invalidField(field: "type of event \(event.id)", reason: "must be 1 to 255 bytes, is \(typeLength)")
        }
        guard event.actor.utf8.count <= 255 else {
            throw .invalidField(field: "actor of event \(event.id)", reason: "must be at most 255 bytes")
        }
        guard event.payload.count <= maximumPayloadSize else {
            throw .invalidField(
                field: "payload of event \(event.id)",
                reason: "must be at most \(maximumPayloadSize) bytes, is \(event.payload.count)"
            )
        }
    }

    /// The encoded size of a record.
    package static func size(of event: ProposedEvent, stream: StreamName) -> Int {
        size(of: event, streamByteCount: stream.rawValue.utf8.count)
    }

    /// The encoded size of a record whose stream name has `streamByteCount` bytes of UTF-8.
    package static func size(of event: ProposedEvent, streamByteCount: Int) -> Int {
        fixedSize + (event.correlationID == nil ? 0 : 16) + (event.causationID == nil ? 0 : 16) + 3
            + streamByteCount + event.type.utf8.count + event.actor.utf8.count + event.payload.count + linkSize
    }

    /// Encodes a record into `buffer` (replacing its content) and returns its chain link.
    package static func encode(
        _ event: ProposedEvent,
        stream: StreamName,
        version: StreamVersion,
        previousInStream: GlobalPosition,
        recordedAt: Timestamp,
        position: GlobalPosition,
        previousLink: ChainLink,
        into buffer: inout [UInt8]
    ) -> ChainLink {
        let count = size(of: event, stream: stream)
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: repeatElement(0, count: count))
        var name = stream.rawValue
        return name.withUTF8 { streamName in
            buffer.withUnsafeMutableBytes { destination in
                encode(
                    event,
                    streamName: UnsafeRawBufferPointer(streamName),
                    version: version,
                    previousInStream: previousInStream,
                    recordedAt: recordedAt,
                    position: position,
                    previousLink: previousLink,
                    into: destination
                )
            }
        }
    }

    /// Encodes a record whose stream name is given as its UTF-8 bytes (at most 255) into `destination`, which
    /// must hold exactly ``size(of:streamByteCount:)`` bytes, and returns its chain link.
    ///
    /// The writer encodes straight into the space LMDB reserves for the record (`MDB_RESERVE`), so a record
    /// is never built in a separate buffer and copied; it passes the name as the bytes it already holds as
    /// the stream's key.
    package static func encode(
        _ event: ProposedEvent,
        streamName: UnsafeRawBufferPointer,
        version: StreamVersion,
        previousInStream: GlobalPosition,
        recordedAt: Timestamp,
        position: GlobalPosition,
        previousLink: ChainLink,
        into destination: UnsafeMutableRawBufferPointer
    ) -> ChainLink {
        precondition(
            destination.count == size(of: event, streamByteCount: streamName.count),
            "the destination must fit the record")
        var flags: UInt8 = 0
        if event.correlationID != nil { flags |= 1 }
        if event.causationID != nil { flags |= 2 }
        var writer = RecordWriter(destination)
        writer.integer(format)
        writer.integer(flags)
        writer.integer(event.schemaVersion)
        writer.integer(UInt32(event.payload.count))
        writer.integer(version.rawValue)
        writer.integer(previousInStream.rawValue)
        writer.integer(event.occurredAt.microsecondsSinceEpoch)
        writer.integer(recordedAt.microsecondsSinceEpoch)
        writer.uuid(event.id.uuid)
        if let correlation = event.correlationID { writer.uuid(correlation) }
        if let causation = event.causationID { writer.uuid(causation) }
        writer.integer(UInt8(truncatingIfNeeded: streamName.count))
        writer.bytes(streamName)
        writer.shortString(event.type)
        writer.shortString(event.actor)
        event.payload.withUnsafeBytes { writer.bytes($0) }
        let body = UnsafeRawBufferPointer(rebasing: destination[0..<writer.offset])
        let link = ChainLink.next(after: previousLink, position: position, body: body)
        link.withUnsafeBytes { writer.bytes($0) }
        return link
    }

    /// Decodes a stored record.
    /// - Throws: ``EventStoreError/integrityViolation(position:reason:)`` when the bytes do not form a record.
    package static func decode(
        _ raw: UnsafeRawBufferPointer,
        position: GlobalPosition
    ) throws(EventStoreError) -> RecordedEvent {
        var decoder = RecordDecoder()
        return try decoder.decode(raw, position: position)
    }

    /// The back-link of a stored record: the position of its stream's previous event.
    package static func previousInStream(_ raw: UnsafeRawBufferPointer) -> GlobalPosition {
        GlobalPosition(raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian)
    }

    /// The stream version of a stored record.
    package static func streamVersion(_ raw: UnsafeRawBufferPointer) -> StreamVersion {
        StreamVersion(raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian)
    }

    /// The stored chain link of a record.
    package static func storedLink(_ raw: UnsafeRawBufferPointer) -> ChainLink {
        ChainLink(reading: raw, at: raw.count - linkSize)
    }

    /// Recomputes the link a record should carry after `previous`.
    package static func expectedLink(
        _ raw: UnsafeRawBufferPointer,
        position: GlobalPosition,
        previous: ChainLink
    ) -> ChainLink {
        ChainLink.next(
            after: previous,
            position: position,
            body: UnsafeRawBufferPointer(rebasing: raw[0..<raw.count - linkSize])
        )
    }
}

/// Writes the fields of one record, in order, into memory sized for it by ``RecordCodec/size(of:stream:)``.
private struct RecordWriter {
    let destination: UnsafeMutableRawBufferPointer
    var offset = 0

    init(_ destination: UnsafeMutableRawBufferPointer) { self.destination = destination }

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        destination.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
    }

    mutating func uuid(_ uuid: UUID) {
        withUnsafeBytes(of: uuid.uuid) { bytes($0) }
    }

    mutating func shortString(_ text: String) {
        let utf8 = text.utf8
        integer(UInt8(truncatingIfNeeded: utf8.count))
        let copied: Void? = utf8.withContiguousStorageIfAvailable { bytes(UnsafeRawBufferPointer($0)) }
        if copied == nil {
            for byte in utf8 { integer(byte) }
        }
    }

    mutating func bytes(_ source: UnsafeRawBufferPointer) {
        UnsafeMutableRawBufferPointer(rebasing: destination[offset..<offset + source.count]).copyMemory(from: source)
        offset += source.count
    }
}

/// Decodes the records of one scan, reusing the previous record's type and actor text when their bytes repeat.
///
/// In a real log a handful of types and one feed actor per tenant cover almost every event: comparing a few
/// dozen bytes and retaining the previous `String` is cheaper than checking the UTF-8 again and, past 15 bytes,
/// allocating a new string. Only the previous record is remembered — a hash-table interner cost more than it
/// saved. One decoder per scan, never shared: it is not `Sendable` and needs no lock.
package struct RecordDecoder {
    private var type = ""
    private var actor = ""

    /// A decoder that remembers nothing yet.
    package init() {}

    /// Decodes a stored record, exactly as ``RecordCodec/decode(_:position:)`` does.
    /// - Throws: ``EventStoreError/integrityViolation(position:reason:)`` when the bytes do not form a record.
    package mutating func decode(
        _ raw: UnsafeRawBufferPointer,
        position: GlobalPosition
    ) throws(EventStoreError) -> RecordedEvent {
        var reader = try RecordReader(raw, position: position)
        let (event, payload) = try reader.envelope(previousType: &type, previousActor: &actor)
        var decoded = event
        decoded.payload = Array(payload)
        return decoded
    }

    /// Decodes a stored record without copying its payload: the event, whose `payload` is empty, and the payload's
    /// bytes, a part of `raw` (valid as long as `raw` is). For a reader that decodes each payload once on the spot,
    /// such as a rebuild: the copy would be an allocation and a free per event.
    /// - Throws: ``EventStoreError/integrityViolation(position:reason:)`` when the bytes do not form a record.
    package mutating func decodeEnvelope(
        _ raw: UnsafeRawBufferPointer,
        position: GlobalPosition
    ) throws(EventStoreError) -> (event: RecordedEvent, payload: UnsafeRawBufferPointer) {
        var reader = try RecordReader(raw, position: position)
        return try reader.envelope(previousType: &type, previousActor: &actor)
    }
}

/// Reads the fields of one stored record, checking every length against the bytes there are.
private struct RecordReader {
    let raw: UnsafeRawBufferPointer
    let position: GlobalPosition
    var offset = 0

    init(_ raw: UnsafeRawBufferPointer, position: GlobalPosition) throws(EventStoreError) {
        self.raw = raw
        self.position = position
        guard raw.count >= RecordCodec.fixedSize + 3 + RecordCodec.linkSize else {
            throw .integrityViolation(position: position, reason: "record of \(raw.count) bytes is too short")
        }
        guard raw[0] == RecordCodec.format else {
            throw .integrityViolation(position: position, reason: "unknown record format \(raw[0])")
        }
    }

    /// The record's event with an empty payload, and the payload's bytes (a part of `raw`); `previousType` and
    /// `previousActor` are reused when the bytes match and replaced when they do not.
    mutating func envelope(
        previousType: inout String,
        previousActor: inout String
    ) throws(EventStoreError) -> (event: RecordedEvent, payload: UnsafeRawBufferPointer) {
        let flags = raw[1]
        guard flags & ~3 == 0 else { throw .integrityViolation(position: position, reason: "unknown flags \(flags)") }
        let schemaVersion = raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self).littleEndian
        let payloadLength = Int(raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        let version = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
        let occurredAt = raw.loadUnaligned(fromByteOffset: 24, as: Int64.self).littleEndian
        let recordedAt = raw.loadUnaligned(fromByteOffset: 32, as: Int64.self).littleEndian
        let id = EventID(reading: raw, at: 40)
        offset = RecordCodec.fixedSize
        let correlation = flags & 1 != 0 ? try uuid() : nil
        let causation = flags & 2 != 0 ? try uuid() : nil
        let stream = try shortString("stream name")
        let type = try shortString("type", reusing: &previousType)
        let actor = try shortString("actor", reusing: &previousActor)
        guard offset + payloadLength + RecordCodec.linkSize == raw.count else {
            throw .integrityViolation(
                position: position,
                reason:
                    "record is \(raw.count) bytes, its fields add up to \(offset + payloadLength + RecordCodec.linkSize)"
            )
        }
        let payload = UnsafeRawBufferPointer(rebasing: raw[offset..<offset + payloadLength])
        guard !stream.isEmpty, version > 0 else {
            throw .integrityViolation(position: position, reason: "record has no stream or version 0")
        }
        let event = RecordedEvent(
            id: id,
            stream: StreamName(unchecked: stream),
            streamVersion: StreamVersion(version),
            position: position,
            type: type,
            schemaVersion: schemaVersion,
            occurredAt: Timestamp(microsecondsSinceEpoch: occurredAt),
            recordedAt: Timestamp(microsecondsSinceEpoch: recordedAt),
            actor: actor,
            correlationID: correlation,
            causationID: causation,
            payload: []
        )
        return (event, payload)
    }

    private mutating func uuid() throws(EventStoreError) -> UUID {
        guard offset + 16 <= raw.count else {
            throw .integrityViolation(position: position, reason: "record ends inside an id")
        }
        defer { offset += 16 }
        return EventID(reading: raw, at: offset).uuid
    }

    private mutating func shortString(_ field: String) throws(EventStoreError) -> String {
        String(decoding: try shortStringBytes(field), as: UTF8.self)
    }

    /// The short string at the offset: `previous` again when it has exactly these bytes, else the decoded bytes,
    /// which also become the new `previous`.
    private mutating func shortString(
        _ field: String,
        reusing previous: inout String
    ) throws(EventStoreError) -> String {
        let bytes = try shortStringBytes(field)
        if !Self.text(previous, is: bytes) { previous = String(decoding: bytes, as: UTF8.self) }
        return previous
    }

    private mutating func shortStringBytes(_ field: String) throws(EventStoreError) -> UnsafeRawBufferPointer {
        guard offset < raw.count else {
            throw .integrityViolation(position: position, reason: "record ends before its \(field)")
        }
        let length = Int(raw[offset])
        guard offset + 1 + length <= raw.count else {
            throw .integrityViolation(position: position, reason: "record's \(field) runs past its end")
        }
        defer { offset += 1 + length }
        return UnsafeRawBufferPointer(rebasing: raw[offset + 1..<offset + 1 + length])
    }

    /// Whether `text`'s UTF-8 is exactly `bytes`. A `String` made by `String(decoding:as:)` holds its input
    /// unchanged when that input is valid UTF-8 and repaired bytes otherwise, so equal bytes mean that decoding
    /// `bytes` again would give `text`.
    private static func text(_ text: String, is bytes: UnsafeRawBufferPointer) -> Bool {
        let equal = text.utf8.withContiguousStorageIfAvailable { (stored) -> Bool in
            guard stored.count == bytes.count else { return false }
            guard let storedBase = stored.baseAddress, let base = bytes.baseAddress else { return true }
            return memcmp(storedBase, base, bytes.count) == 0
        }
        return equal ?? false
    }
}
