import Foundation
import Testing

@testable import CumulusLog

@Suite("Record codec")
struct RecordCodecTests {
    func encode(_ event: ProposedEvent, position: UInt64 = 7) throws -> ([UInt8], ChainLink) {
        var buffer: [UInt8] = []
        let link = RecordCodec.encode(
            event,
            stream: try StreamName("user-42"),
            version: StreamVersion(3),
            previousInStream: GlobalPosition(5),
            recordedAt: Timestamp(microsecondsSinceEpoch: 1_000_000),
            position: GlobalPosition(position),
            previousLink: .genesis,
            into: &buffer
        )
        return (buffer, link)
    }

    @Test(arguments: [false, true])
    func roundTripsEveryField(withIDs: Bool) throws {
        let event = ProposedEvent(
            type: "PresenceChanged",
            schemaVersion: 3,
            occurredAt: Timestamp(microsecondsSinceEpoch: -42),
            actor: "presenceFeed:7f9c",
            correlationID: withIDs ? UUID() : nil,
            causationID: withIDs ? UUID() : nil,
            payload: Array("{\"é\":1}".utf8)
        )
        let (bytes, link) = try encode(event)
        #expect(bytes.count == RecordCodec.size(of: event, stream: try StreamName("user-42")))
        let decoded = try bytes.withUnsafeBytes { try RecordCodec.decode($0, position: GlobalPosition(7)) }
        #expect(decoded.hasSameContent(as: event, in: try StreamName("user-42")))
        #expect(decoded.streamVersion == StreamVersion(3) && decoded.position == GlobalPosition(7))
        #expect(decoded.recordedAt.microsecondsSinceEpoch == 1_000_000)
        bytes.withUnsafeBytes { raw in
            #expect(RecordCodec.previousInStream(raw) == GlobalPosition(5))
            #expect(RecordCodec.storedLink(raw) == link)
            #expect(RecordCodec.expectedLink(raw, position: GlobalPosition(7), previous: .genesis) == link)
            #expect(
                RecordCodec.expectedLink(raw, position: GlobalPosition(8), previous: .genesis) != link,
                "position is linked")
        }
    }

    @Test func damagedBytesNeverCrashTheDecoder() throws {
        let event = ProposedEvent(type: "T", actor: "a", correlationID: UUID(), payload: Array(repeating: 9, count: 50))
        let (bytes, _) = try encode(event)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            var damaged = bytes
            if Bool.random(using: &generator) {
                damaged.removeLast(Int.random(in: 1...damaged.count, using: &generator))
            } else {
                damaged[Int.random(in: 0..<damaged.count, using: &generator)] ^= UInt8.random(
                    in: 1...255, using: &generator)
            }
            // Either it fails cleanly, or the chain link exposes the change.
            let outcome: Result<RecordedEvent, EventStoreError> = damaged.withUnsafeBytes { raw in
                Result { () throws(EventStoreError) in try RecordCodec.decode(raw, position: GlobalPosition(7)) }
            }
            if case .success = outcome {
                let intact = damaged.withUnsafeBytes { raw in
                    RecordCodec.storedLink(raw)
                        == RecordCodec.expectedLink(raw, position: GlobalPosition(7), previous: .genesis)
                }
                #expect(!intact || damaged == bytes)
            }
        }
    }

    /// One decoder over records whose type and actor repeat, change, change length, are empty or are not UTF-8:
    /// each record decodes exactly as a fresh decode would.
    @Test func decoderReusingTextDecodesLikeAFreshDecode() throws {
        let fields: [(type: String, actor: String)] = [
            ("PresenceChanged", "presenceFeed:7d3f2a10"), ("PresenceChanged", "presenceFeed:7d3f2a10"),
            ("PresenceChanged", "presenceFeed:7d3f2a11"), ("PresenceChanged", "presenceFeed:7d3f2a1"),
            ("Renamed", ""), ("Renamed", ""), ("Renamed", "presenceFeed:7d3f2a10"), ("Zäh", "akteur-é"),
            ("Zäh", "akteur-é"), ("PresenceChanged", "presenceFeed:7d3f2a10"),
        ]
        var records = try fields.map { try encode(ProposedEvent(type: $0.type, actor: $0.actor, payload: [1])).0 }
        // Two records whose actor is the same invalid UTF-8, then a valid one with the same length.
        let invalid = try encode(ProposedEvent(type: "T", actor: "ab\u{7F}", payload: [])).0
        var first = invalid
        let actorByte = first.count - RecordCodec.linkSize - 1
        first[actorByte] = 0xFF
        records += [first, first, invalid]
        var decoder = RecordDecoder()
        for (index, record) in records.enumerated() {
            let position = GlobalPosition(UInt64(index + 1))
            let fresh = try record.withUnsafeBytes { try RecordCodec.decode($0, position: position) }
            let reused = try record.withUnsafeBytes { try decoder.decode($0, position: position) }
            #expect(reused == fresh, "record \(index)")
            #expect(Array(reused.actor.utf8) == Array(fresh.actor.utf8) && reused.type == fresh.type)
        }
        #expect(records.count == 13)
    }

    /// A decoder that has seen good records still refuses a damaged one, naming its position.
    @Test func decoderReusingTextStillRefusesDamage() throws {
        let (good, _) = try encode(ProposedEvent(type: "PresenceChanged", actor: "presenceFeed:7d3f2a10", payload: []))
        var decoder = RecordDecoder()
        _ = try good.withUnsafeBytes { try decoder.decode($0, position: GlobalPosition(1)) }
        var damaged = good
        let actorLength = RecordCodec.fixedSize + 1 + 7 + 1 + 15
        damaged[actorLength] = 200  // the actor now runs past the record's end
        #expect {
            _ = try damaged.withUnsafeBytes { try decoder.decode($0, position: GlobalPosition(2)) }
        } throws: { error in
            guard case .integrityViolation(let position, let reason) = error as? EventStoreError else { return false }
            return position == GlobalPosition(2) && reason.contains("actor")
        }
    }

    @Test func refusesFieldsThatCannotBeStored() {
        #expect(throws: EventStoreError.self) {
            try RecordCodec.validate(ProposedEvent(type: "", actor: "a", payload: []))
        }
        #expect(throws: EventStoreError.self) {
            try RecordCodec.validate(ProposedEvent(type: String(repeating: "t", count: 256), actor: "a", payload: []))
        }
        #expect(throws: EventStoreError.self) {
            try RecordCodec.validate(ProposedEvent(type: "t", actor: String(repeating: "a", count: 256), payload: []))
        }
        #expect(throws: EventStoreError.self) {
            try RecordCodec.validate(
                ProposedEvent(type: "t", actor: "a", payload: Array(repeating: 0, count: (16 << 20) + 1)))
        }
    }

    /// The record layout as first written, field by field into an array: the encoder writing into reserved
    /// memory must produce exactly these bytes.
    static func referenceEncoding(
        _ event: ProposedEvent, stream: StreamName, version: UInt64, previous: UInt64, recordedAt: Int64,
        position: UInt64
    ) -> [UInt8] {
        var bytes: [UInt8] = [1, (event.correlationID == nil ? 0 : 1) | (event.causationID == nil ? 0 : 2)]
        func integer<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        func text(_ value: String) {
            bytes.append(UInt8(value.utf8.count))
            bytes += value.utf8
        }
        integer(event.schemaVersion)
        integer(UInt32(event.payload.count))
        integer(version)
        integer(previous)
        integer(event.occurredAt.microsecondsSinceEpoch)
        integer(recordedAt)
        withUnsafeBytes(of: event.id.uuid.uuid) { bytes += $0 }
        if let correlation = event.correlationID { withUnsafeBytes(of: correlation.uuid) { bytes += $0 } }
        if let causation = event.causationID { withUnsafeBytes(of: causation.uuid) { bytes += $0 } }
        text(stream.rawValue)
        text(event.type)
        text(event.actor)
        bytes += event.payload
        let link = bytes.withUnsafeBytes {
            ChainLink.next(after: .genesis, position: GlobalPosition(position), body: $0)
        }
        return bytes + link.bytes
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func encodingIsByteForByteTheStoredFormat(correlation: Bool, causation: Bool) throws {
        let stream = try StreamName("user-ünïcode-\(correlation)")
        let event = ProposedEvent(
            type: "PresenceChanged",
            schemaVersion: 2,
            occurredAt: Timestamp(microsecondsSinceEpoch: 1_795_000_000_123_456),
            actor: "presenceFeed:7d3f2a10-long-enough-to-live-on-the-heap",
            correlationID: correlation ? UUID() : nil,
            causationID: causation ? UUID() : nil,
            payload: Array(repeating: 0xA5, count: correlation ? 0 : 300)
        )
        let (bytes, link) = try encode(event)
        let expected = Self.referenceEncoding(
            event, stream: try StreamName("user-42"), version: 3, previous: 5, recordedAt: 1_000_000, position: 7)
        #expect(bytes == expected)
        #expect(link == ChainLink(bytes: Array(expected.suffix(32))))
        // Through the stream name's bytes, as the writer encodes into reserved space.
        var reserved = [UInt8](repeating: 0xFF, count: RecordCodec.size(of: event, stream: stream))
        let direct = reserved.withUnsafeMutableBytes { destination in
            Array(stream.rawValue.utf8).withUnsafeBytes { name in
                RecordCodec.encode(
                    event, streamName: name, version: StreamVersion(3), previousInStream: GlobalPosition(5),
                    recordedAt: Timestamp(microsecondsSinceEpoch: 1_000_000), position: GlobalPosition(7),
                    previousLink: .genesis, into: destination)
            }
        }
        let expectedDirect = Self.referenceEncoding(
            event, stream: stream, version: 3, previous: 5, recordedAt: 1_000_000, position: 7)
        #expect(reserved == expectedDirect)
        #expect(direct == ChainLink(bytes: Array(expectedDirect.suffix(32))))
    }
}

@Suite("Envelope JSON Lines")
struct EnvelopeJSONTests {
    @Test func parsesALineWithEveryField() throws {
        let line = """
            {"stream":"user-1","type":"Noted","actor":"systemAdmin","expectedVersion":3,"id":"0193a0b2-1111-7000-8000-000000000001",
            "schemaVersion":2,"occurredAt":"2026-11-20T08:00:00Z","correlationId":"8a0b2c7e-1111-4000-8000-000000000002",
            "payload":{"b":2,"a":"x"}}
            """.replacingOccurrences(of: "\n", with: "")
        let append = try EnvelopeJSON.append(fromLine: line, lineNumber: 4)
        #expect(append.stream.rawValue == "user-1" && append.expectedVersion == .exactly(StreamVersion(3)))
        let event = try #require(append.events.first)
        #expect(event.id == EventID("0193a0b2-1111-7000-8000-000000000001") && event.schemaVersion == 2)
        #expect(event.occurredAt == Timestamp(iso8601: "2026-11-20T08:00:00Z"))
        #expect(String(decoding: event.payload, as: UTF8.self) == "{\"a\":\"x\",\"b\":2}")
        #expect(event.causationID == nil && event.correlationID != nil)
    }

    @Test func roundTripsThroughTheOutputForm() throws {
        let recorded = RecordedEvent(
            id: .generate(), stream: try StreamName("s\"q"), streamVersion: StreamVersion(2),
            position: GlobalPosition(9),
            type: "T", schemaVersion: 1, occurredAt: Timestamp(microsecondsSinceEpoch: 5), recordedAt: .now,
            actor: "a\tb", correlationID: nil, causationID: UUID(), payload: [0, 255, 10]
        )
        let line = EnvelopeJSON.line(for: recorded)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["stream"] as? String == "s\"q" && object["actor"] as? String == "a\tb")
        #expect(object["payloadText"] == nil, "bytes that are not UTF-8 have no text form")
        let append = try EnvelopeJSON.append(fromLine: line, lineNumber: 1)
        let event = append.events[0]
        #expect(event.id == recorded.id && event.type == "T" && event.occurredAt == recorded.occurredAt)
        #expect(event.actor == "a\tb" && event.causationID == recorded.causationID && event.payload == [0, 255, 10])
        #expect(append.stream == recorded.stream)
    }

    @Test func whatReadPrintsIsAcceptedBack() {
        #expect(throws: Never.self) {
            // What `read` prints is accepted back (its position, stream version and recorded time are ignored).
            let printed = EnvelopeJSON.line(
                for: RecordedEvent(
                    id: EventID(UUID()), stream: StreamName(unchecked: "s-1"), streamVersion: StreamVersion(3),
                    position: GlobalPosition(9), type: "T", schemaVersion: 1,
                    occurredAt: Timestamp(microsecondsSinceEpoch: 5),
                    recordedAt: Timestamp(microsecondsSinceEpoch: 6), actor: "a", correlationID: nil, causationID: nil,
                    payload: Array("{}".utf8)), rendering: "{}")
            _ = try EnvelopeJSON.append(fromLine: printed, lineNumber: 1)
        }
    }

    @Test(arguments: [
        ("{bad", "not a JSON object"),
        ("[1,2]", "a line must be a JSON object, not an array"),
        ("{\"type\":\"T\",\"actor\":\"a\"}", "'stream'"),
        ("{\"stream\":\"s\",\"actor\":\"a\"}", "'type'"),
        ("{\"stream\":\"s\",\"type\":\"T\"}", "'actor'"),
        ("{\"stream\":\"\",\"type\":\"T\",\"actor\":\"a\"}", "stream name"),
        ("{\"stream\":\"s\",\"type\":\"T\",\"actor\":\"a\",\"expectedVersion\":-1}", "expectedVersion"),
        ("{\"stream\":\"s\",\"type\":\"T\",\"actor\":\"a\",\"expectedVersion\":\"later\"}", "expectedVersion"),
        ("{\"stream\":\"s\",\"type\":\"T\",\"actor\":\"a\",\"id\":\"nope\"}", "'id'"),
        ("{\"stream\":\"s\",\"type\":\"T\",\"actor\":\"a\",\"occurredAt\":\"yesterday\"}", "occurredAt"),
        ("{\"stream\":\"s\",\"type\":\"T\",\"actor\":\"a\",\"schemaVersion\":0}", "schemaVersion"),
        ("{\"stream\":\"s\",\"type\":\"T\",\"actor\":\"a\",\"schemaVersion\":true}", "schemaVersion"),
        ("{\"stream\":\"s\",\"type\":\"T\",\"actor\":\"a\",\"schemaVersion\":1.5}", "schemaVersion"),
        ("{\"stream\":\"s\",\"type\":\"T\",\"actor\":\"a\",\"expectedVersion\":true}", "expectedVersion"),
        ("{\"stream\":\"s\",\"type\":\"T\",\"actor\":\"a\",\"payloadBase64\":\"***\"}", "base64"),
        ("{\"stream\":\"s\",\"events\":[]}", "'events'"),
        // A field no append has is named, not taken as absent (a misspelt `occurredAt` would default to now).
        (
            "{\"stream\":\"s\",\"type\":\"T\",\"actor\":\"a\",\"occuredAt\":\"2026-11-20T08:00:00Z\"}",
            "field `occuredAt` is not a field of an append line"
        ),
        (
            "{\"stream\":\"s\",\"events\":[{\"type\":\"T\",\"actor\":\"a\",\"corelationId\":null}]}",
            "field `events[0].corelationId` is not a field of an append line"
        ),
        (
            "{\"stream\":\"s\",\"type\":\"T\",\"actor\":\"a\",\"events\":[{\"type\":\"T\",\"actor\":\"a\"}]}",
            "field `actor`"
        ),
    ])
    func refusesBadLinesNamingTheProblem(line: String, expected: String) {
        #expect {
            _ = try EnvelopeJSON.append(fromLine: line, lineNumber: 12)
        } throws: { error in
            guard let error = error as? EnvelopeJSON.LineError else { return false }
            return error.line == 12 && error.description.hasPrefix("line 12:") && error.reason.contains(expected)
        }
    }
}
