import Foundation

/// The JSON Lines form of events, as `cumulus read` prints them and `cumulus append` takes them.
///
/// Output, one event per line:
/// ```json
/// {"position":1,"stream":"user-1","streamVersion":1,"id":"0193…","type":"PresenceChanged","schemaVersion":1,
///  "occurredAt":"2026-11-20T08:00:00Z","recordedAt":"2026-11-20T08:00:00.125Z","actor":"presenceFeed:…",
///  "correlationId":null,"causationId":null,"payloadBase64":"eyJhIjoxfQ==","payloadText":"{\"a\":1}"}
/// ```
/// `payloadText` is present when the payload is valid UTF-8. Input lines take the same fields (position,
/// streamVersion and recordedAt are ignored) plus `expectedVersion` (`"any"`, `"noStream"` or a number),
/// and the payload as `payloadBase64` (exact bytes), `payloadText` (UTF-8) or `payload` (any JSON value,
/// stored as its compact JSON text). `id` defaults to an id derived from the line (``LineDerivedID``), `occurredAt` to now,
/// `schemaVersion` to 1. A line may instead hold `{"stream":…,"expectedVersion":…,"events":[{…},…]}` to
/// append several events to one stream atomically.
public enum EnvelopeJSON {
    /// One event as one line of JSON (without the newline).
    /// - Parameters:
    ///   - event: the event.
    ///   - withholdPayload: print `"payloadBase64":null,"payloadWithheld":true` instead of the payload
    ///     (for payloads that hold secrets).
    ///   - rendering: the decoded payload as one JSON object (valid JSON text, inserted as it is), printed as
    ///     `"event"`; `cumulus read` passes the domain event's fields by name.
    public static func line(for event: RecordedEvent, withholdPayload: Bool = false, rendering: String? = nil) -> String
    {
        var json = JSONText()
        json.beginObject()
        json.field("position", event.position.rawValue)
        json.field("stream", event.stream.rawValue)
        json.field("streamVersion", event.streamVersion.rawValue)
        json.field("id", event.id.description)
        json.field("type", event.type)
        json.field("schemaVersion", UInt64(event.schemaVersion))
        json.field("occurredAt", event.occurredAt.iso8601)
        json.field("recordedAt", event.recordedAt.iso8601)
        json.field("actor", event.actor)
        json.field("correlationId", event.correlationID?.uuidString.lowercased())
        json.field("causationId", event.causationID?.uuidString.lowercased())
        if withholdPayload {
            json.field("payloadBase64", nil)
            json.field("payloadWithheld", true)
        } else {
            json.field("payloadBase64", Data(event.payload).base64EncodedString())
            if rendering == nil, let text = String(validating: event.payload, as: UTF8.self) {
                json.field("payloadText", text)
            }
        }
        if let rendering { json.raw("event", rendering) }
        json.endObject()
        return json.text
    }

    /// A line that could not be turned into an append: what is wrong, on which line.
    public struct LineError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The 1-based line number.
        public let line: Int
        /// What is wrong with it.
        public let reason: String

        /// `line N: reason`.
        public var description: String { "line \(line): \(reason)" }
    }

    /// Parses one input line into an append.
    ///
    /// An event without `id` gets one derived from the line (``LineDerivedID``), so the same input appended
    /// again is recognised; `occurrence` says which copy of this exact line in the input it is.
    /// - Throws: ``LineError`` naming the line and the field.
    public static func append(
        fromLine text: String, lineNumber: Int, occurrence: Int = 1
    ) throws(LineError)
        -> StreamAppend
    {
        try parse(line: text, lineNumber: lineNumber, occurrence: occurrence).append
    }

    /// One parsed input line: its append, and which of its events took the default `occurredAt` (now).
    public struct ParsedLine: Sendable {
        /// The append the line asks for.
        public var append: StreamAppend
        /// Indices into `append.events` of the events whose line gave no `occurredAt`.
        public var defaultedTimes: [Int]
    }

    /// The fields of a line beside its events' own: the stream and the expected version.
    static let lineFields: Set<String> = ["stream", "expectedVersion"]
    /// The fields of one event: what ``parse(line:lineNumber:occurrence:)`` reads, and what ``line(for:withholdPayload:rendering:)``
    /// prints and an append ignores (`position`, `streamVersion`, `recordedAt`, `payloadWithheld`, `event`), so that
    /// `read`'s output can be fed back.
    static let eventFields: Set<String> = [
        "id", "type", "schemaVersion", "occurredAt", "actor", "correlationId", "causationId", "payloadBase64",
        "payloadText", "payload", "position", "streamVersion", "recordedAt", "payloadWithheld", "event",
    ]

    /// Parses one input line, telling which events' times were defaulted (a retry adopts the stored time of
    /// such an event, so that its derived id matches with the same content).
    /// - Throws: ``LineError`` naming the line and the field.
    public static func parse(line text: String, lineNumber: Int, occurrence: Int) throws(LineError) -> ParsedLine {
        func fail(_ reason: String) -> LineError { LineError(line: lineNumber, reason: reason) }
        if let offset = JSONLines.offsetNestingDeeper(in: text) {
            throw fail("nested too deep (limit \(JSONLines.nestingLimit)) at byte offset \(offset)")
        }
        guard let data = text.data(using: .utf8),
            let parsed = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        else { throw fail("not a JSON object") }
        guard let object = parsed as? [String: Any] else {
            throw fail("a line must be a JSON object, not \(jsonTypeName(parsed))")
        }
        // A misspelt optional field (`occuredAt`) would otherwise be taken as absent and its default stored.
        func refuseUnknown(_ fields: [String: Any], allowed: Set<String>, context: String) throws(LineError) {
            guard let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) else { return }
            throw fail("field `\(context)\(VisibleText.escaped(unknown))` is not a field of an append line")
        }
        let single = object["events"] == nil
        try refuseUnknown(
            object, allowed: single ? lineFields.union(eventFields) : lineFields.union(["events"]), context: "")
        let streamText = try string(object["stream"], "stream", fail)
        let stream: StreamName
        do { stream = try StreamName(streamText) } catch { throw fail(error.description) }
        let expected = try expectedVersion(object["expectedVersion"], fail)
        var events: [ProposedEvent] = []
        var defaulted: [Int] = []
        let line = Array(text.utf8)
        let derive = { (index: Int, occurredAt: Timestamp?) in
            EventID(
                LineDerivedID.uuid(line: line, occurrence: occurrence, label: "event \(index)", occurredAt: occurredAt))
        }
        if let list = object["events"] {
            guard let items = list as? [[String: Any]], !items.isEmpty else {
                throw fail("'events' must be a non-empty array of objects")
            }
            for (index, item) in items.enumerated() {
                try refuseUnknown(item, allowed: eventFields, context: "events[\(index)].")
                if item["occurredAt"] == nil { defaulted.append(index) }
                events.append(try event(from: item, context: "events[\(index)].", { derive(index, $0) }, fail))
            }
        } else {
            if object["occurredAt"] == nil { defaulted.append(0) }
            events.append(try event(from: object, context: "", { derive(0, $0) }, fail))
        }
        return ParsedLine(
            append: StreamAppend(stream: stream, expectedVersion: expected, events: events), defaultedTimes: defaulted)
    }

    private static func expectedVersion(
        _ value: Any?,
        _ fail: (String) -> LineError
    ) throws(LineError) -> ExpectedVersion {
        switch value {
        case nil: return .any
        case let text as String where text == "any": return .any
        case let text as String where text == "noStream": return .noStream
        case let value?:
            if let number = wholeNumber(value), number >= 0 { return .exactly(StreamVersion(UInt64(number))) }
            fallthrough
        default: throw fail("'expectedVersion' must be \"any\", \"noStream\" or a version number ≥ 0")
        }
    }

    private static func event(
        from object: [String: Any],
        context: String,
        _ derivedID: (Timestamp?) -> EventID,
        _ fail: (String) -> LineError
    ) throws(LineError) -> ProposedEvent {
        let type = try string(object["type"], "\(context)type", fail)
        guard !type.isEmpty else { throw fail("field '\(context)type' must not be empty") }
        let actor = try string(object["actor"], "\(context)actor", fail)
        var id: EventID?
        if let value = object["id"] {
            guard let text = value as? String, let parsed = EventID(text) else {
                throw fail("'\(context)id' must be a UUID")
            }
            id = parsed
        }
        var schemaVersion: UInt16 = 1
        if let value = object["schemaVersion"] {
            guard let number = wholeNumber(value), let version = UInt16(exactly: number), version > 0 else {
                throw fail("'\(context)schemaVersion' must be a whole number from 1 to 65535")
            }
            schemaVersion = version
        }
        var givenTime: Timestamp?
        if let value = object["occurredAt"] {
            guard let text = value as? String else {
                throw fail("'\(context)occurredAt' must be an ISO 8601 time such as 2026-11-20T08:00:00Z")
            }
            do { givenTime = try Timestamp.parse(iso8601: text) } catch {
                throw fail("'\(context)occurredAt': \(error.reason)")
            }
        }
        let occurredAt = givenTime ?? Timestamp.now
        let correlation = try uuid(object["correlationId"], "\(context)correlationId", fail)
        let causation = try uuid(object["causationId"], "\(context)causationId", fail)
        let payload: [UInt8]
        if let base64 = object["payloadBase64"] {
            guard let text = base64 as? String, let data = Data(base64Encoded: text) else {
                throw fail("'\(context)payloadBase64' is not valid base64")
            }
            payload = Array(data)
        } else if let text = object["payloadText"] {
            guard let string = text as? String else { throw fail("'\(context)payloadText' must be a string") }
            payload = Array(string.utf8)
        } else if let value = object["payload"] {
            guard
                let data = try? JSONSerialization.data(
                    withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
            else { throw fail("'\(context)payload' cannot be written as JSON") }
            payload = Array(data)
        } else {
            payload = []
        }
        let event = ProposedEvent(
            id: id ?? derivedID(givenTime),
            type: type,
            schemaVersion: schemaVersion,
            occurredAt: occurredAt,
            actor: actor,
            correlationID: correlation,
            causationID: causation,
            payload: payload
        )
        do { try RecordCodec.validate(event) } catch { throw fail(error.description) }
        return event
    }

    /// A required string field: missing, or of another JSON type, each with its own message.
    private static func string(
        _ value: Any?, _ field: String, _ fail: (String) -> LineError
    ) throws(LineError)
        -> String
    {
        guard let value, !(value is NSNull) else { throw fail("missing field '\(field)' (a string)") }
        guard let text = value as? String else {
            throw fail("field '\(field)' must be a string, not \(jsonTypeName(value))")
        }
        return text
    }

    /// The JSON type of a value Foundation parsed, for messages.
    static func jsonTypeName(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is String: return "a string"
        case let number as NSNumber: return String(cString: number.objCType) == "c" ? "a boolean" : "a number"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "another JSON value"
        }
    }

    /// A JSON number without a fraction, as an integer; nil for booleans (which Foundation also
    /// hands out as `NSNumber`), fractions and anything else.
    static func wholeNumber(_ value: Any) -> Int64? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        let double = number.doubleValue
        guard double.rounded() == double, abs(double) < 9e15 else { return nil }
        return number.int64Value
    }

    private static func uuid(_ value: Any?, _ field: String, _ fail: (String) -> LineError) throws(LineError) -> UUID? {
        guard let value, !(value is NSNull) else { return nil }
        guard let text = value as? String, let uuid = UUID(uuidString: text) else {
            throw fail("'\(field)' must be a UUID")
        }
        return uuid
    }
}
