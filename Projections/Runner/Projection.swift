public import CumulusDomain
public import CumulusLog

/// A read model folded from the log: a value-type state and a pure `apply` that knows nothing about storage.
///
/// The runner (``ProjectionSet``) decodes each event once and hands the decoded form to every projection.
/// A projection's state round-trips through ``encodeState()`` and ``init(decodingState:)`` so that it can be
/// saved with a checkpoint; ``codeVersion`` is stored beside it, and a stored state of another version is
/// rebuilt from the log instead of being decoded.
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
    /// The state as compact bytes (the format is private to the projection and versioned by ``codeVersion``).
    func encodeState() -> [UInt8]
    /// Restores a state written by ``encodeState()`` of the same ``codeVersion``.
    /// - Throws: ``ProjectionStateError`` when the bytes are truncated or corrupt.
    init(decodingState bytes: [UInt8]) throws(ProjectionStateError)
}

extension Projection {
    /// The projection's name, reachable through an existential.
    public var name: String { Self.name }
    /// The projection's code version, reachable through an existential.
    public var codeVersion: UInt32 { Self.codeVersion }
}
