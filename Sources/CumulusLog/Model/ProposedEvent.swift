public import struct Foundation.UUID

/// An event as a writer hands it to the log: everything but where it lands.
///
/// The log treats ``payload`` as opaque bytes; the domain encodes and decodes it, and uses ``type`` and
/// ``schemaVersion`` to know how.
public struct ProposedEvent: Hashable, Sendable {
    /// The event's identity; appending the same id twice stores it once.
    public var id: EventID
    /// The event type, e.g. `PresenceChanged`: 1 to 255 bytes of UTF-8.
    public var type: String
    /// The version of the payload's schema for this type, so old events can be read forever.
    public var schemaVersion: UInt16
    /// When it happened at the source.
    public var occurredAt: Timestamp
    /// Who did it, as the domain writes an actor (`systemAdmin`, `tenantAdmin:<id>`, …); at most 255 bytes.
    public var actor: String
    /// The id that ties together everything done for one request.
    public var correlationID: UUID?
    /// The id of the command or event that caused this one.
    public var causationID: UUID?
    /// The encoded event, opaque to the log.
    public var payload: [UInt8]

    /// Describes an event to append.
    /// - Parameters:
    ///   - id: its identity; by default a new time-ordered id.
    ///   - type: the event type.
    ///   - schemaVersion: the payload's schema version, 1 by default.
    ///   - occurredAt: when it happened at the source; now by default.
    ///   - actor: who did it.
    ///   - correlationID: the request it belongs to.
    ///   - causationID: what caused it.
    ///   - payload: the encoded event.
    public init(
        id: EventID = .generate(),
        type: String,
        schemaVersion: UInt16 = 1,
        occurredAt: Timestamp = .now,
        actor: String,
        correlationID: UUID? = nil,
        causationID: UUID? = nil,
        payload: [UInt8]
    ) {
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.occurredAt = occurredAt
        self.actor = actor
        self.correlationID = correlationID
        self.causationID = causationID
        self.payload = payload
    }
}

/// An event as stored in the log: the envelope the writer proposed, plus where and when it landed.
public struct RecordedEvent: Hashable, Sendable {
    /// The event's identity.
    public var id: EventID
    /// The stream it belongs to.
    public var stream: StreamName
    /// Its version in that stream: 1 for the stream's first event.
    public var streamVersion: StreamVersion
    /// Its position in the whole log.
    public var position: GlobalPosition
    /// The event type.
    public var type: String
    /// The payload's schema version.
    public var schemaVersion: UInt16
    /// When it happened at the source.
    public var occurredAt: Timestamp
    /// When the log stored it.
    public var recordedAt: Timestamp
    /// Who did it.
    public var actor: String
    /// The request it belongs to.
    public var correlationID: UUID?
    /// What caused it.
    public var causationID: UUID?
    /// The encoded event.
    public var payload: [UInt8]

    /// Assembles a recorded event; backends and tests use this, writers use ``ProposedEvent``.
    public init(
        id: EventID,
        stream: StreamName,
        streamVersion: StreamVersion,
        position: GlobalPosition,
        type: String,
        schemaVersion: UInt16,
        occurredAt: Timestamp,
        recordedAt: Timestamp,
        actor: String,
        correlationID: UUID?,
        causationID: UUID?,
        payload: [UInt8]
    ) {
        self.id = id
        self.stream = stream
        self.streamVersion = streamVersion
        self.position = position
        self.type = type
        self.schemaVersion = schemaVersion
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.actor = actor
        self.correlationID = correlationID
        self.causationID = causationID
        self.payload = payload
    }

    /// Whether `proposed` describes this same event: the same id, type, schema, time, actor, ids and
    /// payload. A retried append is idempotent only when this holds.
    public func hasSameContent(as proposed: ProposedEvent, in stream: StreamName) -> Bool {
        id == proposed.id && self.stream == stream && type == proposed.type
            && schemaVersion == proposed.schemaVersion && occurredAt == proposed.occurredAt
            && actor == proposed.actor && correlationID == proposed.correlationID
            && causationID == proposed.causationID && payload == proposed.payload
    }
}
