public import CumulusDomain
public import CumulusLog

/// A read model folded from the log: a value-type state and a pure `apply` that knows nothing about storage.
///
/// The runner (``ProjectionSet``) decodes each event once and hands the decoded form to every projection.
/// A projection's state round-trips through ``encodeState()`` and ``init(decodingState:)`` so that it can be
/// saved with a checkpoint; ``codeVersion`` is stored beside it, and a stored state of another version is
/// rebuilt from the log instead of being decoded.
///
/// The runner may apply two projections on two threads at once (``ProjectionSet/lanes``), one projection on
/// one thread at a time: a projection must share no mutable reference with another.
///
/// ```swift
/// var report = UserStateReportProjection()
/// for event in events {
///     report.apply(event, decoded: try DomainEvent.decode(
///         type: event.type, schemaVersion: event.schemaVersion, payload: event.payload))
/// }
/// ```
public protocol Projection: Sendable {
    /// The stable name under which the checkpoint is stored, e.g. `user-state-report`.
    static var name: String { get }
    /// Bumped whenever the projection's code changes what it derives, so an older stored state is rebuilt.
    static var codeVersion: UInt32 { get }
    /// The state before any event.
    init()
    /// Folds one event into the state.
    /// - Parameters:
    ///   - event: the envelope (position, times, actor).
    ///   - decoded: its payload, decoded once by the caller.
    mutating func apply(_ event: RecordedEvent, decoded: DomainEvent)
    /// Folds a batch of events, in log order, as if ``apply(_:decoded:)`` were called for each.
    ///
    /// The default does exactly that. A projection keyed by user overrides it to look up every user of the batch
    /// first: the lookups do not depend on one another, so the processor overlaps their cache misses instead of
    /// waiting for each in turn.
    mutating func apply(batch: ArraySlice<DecodedEvent>)
    /// The state as compact bytes (the format is private to the projection and versioned by ``codeVersion``).
    func encodeState() -> [UInt8]
    /// Restores a state written by ``encodeState()`` of the same ``codeVersion``.
    /// - Throws: ``ProjectionStateError`` when the bytes are truncated or corrupt.
    init(decodingState bytes: [UInt8]) throws(ProjectionStateError)
    /// Users whose bounded in-memory history could not place a late event exactly (it landed before the
    /// history's horizon): the runner reads each one's stream and hands it to ``rebuildHistory(of:from:)``.
    var usersNeedingHistory: [UserID] { get }
    /// Rebuilds one user's history from its whole stream (events up to this projection's position) and
    /// regenerates what depends on it from the earliest late event on.
    mutating func rebuildHistory(of user: UserID, from stream: [DecodedEvent])
}

extension Projection {
    /// Applies each event of the batch in order.
    public mutating func apply(batch: ArraySlice<DecodedEvent>) {
        // Through a buffer pointer the events are borrowed, not copied (a copy retains and releases its strings).
        batch.withUnsafeBufferPointer { events in
            for index in events.indices { apply(events[index].event, decoded: events[index].decoded) }
        }
    }

    /// None: a projection that keeps no per-user history never needs one.
    public var usersNeedingHistory: [UserID] { [] }

    /// Nothing to rebuild.
    public mutating func rebuildHistory(of user: UserID, from stream: [DecodedEvent]) {}

    /// The projection's name, reachable through an existential.
    public var name: String { Self.name }
    /// The projection's code version, reachable through an existential.
    public var codeVersion: UInt32 { Self.codeVersion }
}

/// An event with its payload decoded: what the runner hands to projections.
public struct DecodedEvent: Sendable {
    /// The envelope (position, times, actor, type, stream).
    ///
    /// Its `payload` may be empty: a catch-up over a log that scans in place (the LMDB log) decodes each payload
    /// from the log's own bytes and does not copy it into the event. Read ``decoded`` instead.
    public var event: RecordedEvent
    /// Its payload, decoded once.
    public var decoded: DomainEvent {
        didSet { feed = FeedFact(decoded) }
    }
    /// The plain fields of ``decoded`` when it is a per-user feed fact, read once here: the user-keyed projections
    /// read them for every event, and matching ``decoded`` copies the whole payload enum each time.
    public private(set) var feed: FeedFact?

    /// Pairs an event with its decoded payload.
    public init(_ event: RecordedEvent, decoded: DomainEvent) {
        self.event = event
        self.decoded = decoded
        feed = FeedFact(decoded)
    }

    /// Decodes `event`'s payload.
    /// - Throws: ``ProjectionStateError/undecodableEvent(position:type:reason:)`` when it cannot be read.
    public init(decoding event: RecordedEvent) throws(ProjectionStateError) {
        try self.init(event, decodingPayload: event.payload)
    }

    /// Decodes a payload given as bytes, `event`'s own `payload` unread: the catch-up's path, which hands the
    /// bytes where they lie in the log and keeps `event`'s payload empty. The bytes are copied into `scratch`,
    /// reused from one event to the next, so no array is allocated per event.
    /// - Throws: ``ProjectionStateError/undecodableEvent(position:type:reason:)`` when it cannot be read.
    init(
        decoding event: RecordedEvent, payload: UnsafeRawBufferPointer, scratch: inout [UInt8]
    ) throws(ProjectionStateError) {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: payload)
        try self.init(event, decodingPayload: scratch)
    }

    /// Pairs `event` with `payload` — its own or its bytes from the log — decoded.
    private init(_ event: RecordedEvent, decodingPayload payload: [UInt8]) throws(ProjectionStateError) {
        do {
            decoded = try DomainEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: payload)
        } catch {
            throw .undecodableEvent(position: event.position, type: event.type, reason: error.description)
        }
        self.event = event
        feed = FeedFact(decoded)
    }
}

/// A per-user fact of the feed (presence, user state) or of the user's life that the user-keyed projections
/// place in the user's timeline (a profile change alone, the removal): its user and, for presence, its values.
public struct FeedFact: Hashable, Sendable {
    /// What the fact is.
    public enum Kind: Hashable, Sendable {
        /// `PresenceChanged`, with its availability and activity.
        case presence(Availability, Activity)
        /// `UserStateChanged` (its names are read from the payload).
        case userState
        /// `ResponsibilityProfileChanged`.
        case profile
        /// `UserRemoved`.
        case removed
    }

    /// The user.
    public let user: UserID
    /// What the fact is.
    public let kind: Kind

    /// The fact `decoded` is, or nil when it is none of these.
    public init?(_ decoded: DomainEvent) {
        switch decoded {
        case .presenceChanged(let e): (user, kind) = (e.user, .presence(e.availability, e.activity))
        case .userStateChanged(let e): (user, kind) = (e.user, .userState)
        case .responsibilityProfileChanged(let e): (user, kind) = (e.user, .profile)
        case .userRemoved(let e): (user, kind) = (e.user, .removed)
        default: return nil
        }
    }
}
