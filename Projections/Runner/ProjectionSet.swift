public import CumulusDomain
public import CumulusLog

/// Feeds events into several projections, decoding each event once, and saves or restores their checkpoints.
///
/// Each projection remembers the last position it includes, so a set can hold projections restored from
/// checkpoints at different positions (or rebuilt from 0 after a code-version change): an event reaches
/// only the projections that have not seen it. Read the log from ``resumePosition`` on.
///
/// ```swift
/// var set = ProjectionSet.standard()
/// for checkpoint in storedCheckpoints { _ = try set.restore(checkpoint) }
/// try set.apply(contentsOf: store.read(after: set.resumePosition))
/// let saved = set.checkpoints()
/// ```
public struct ProjectionSet: Sendable {
    /// The projections, in the order they were given.
    public private(set) var projections: [any Projection]
    /// The last position each projection includes, parallel to ``projections``.
    public private(set) var positions: [GlobalPosition]

    /// A set of fresh projections, none of which has seen an event.
    public init(_ projections: [any Projection]) {
        self.projections = projections
        self.positions = Array(repeating: .start, count: projections.count)
    }

    /// Current state, licence counters, user-state report, time in state and audit, all empty.
    public static func standard() -> ProjectionSet {
        ProjectionSet([
            CurrentStateProjection(), LicenceCountersProjection(), UserStateReportProjection(),
            TimeInStateProjection(), AuditProjection(),
        ])
    }

    /// The position to read the log after: the smallest position any projection includes.
    public var resumePosition: GlobalPosition { positions.min() ?? .start }

    /// The last position every projection includes.
    public var position: GlobalPosition { resumePosition }

    /// Decodes `event` once and applies it to every projection that has not seen it yet.
    /// - Throws: ``ProjectionStateError/undecodableEvent(position:type:reason:)`` when the payload cannot be read;
    ///   nothing is applied then.
    public mutating func apply(_ event: RecordedEvent) throws(ProjectionStateError) {
        let decoded: DomainEvent
        do {
            decoded = try DomainEvent.decode(
                type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
        } catch {
            throw .undecodableEvent(position: event.position, type: event.type, reason: error.description)
        }
        apply(event, decoded: decoded)
    }

    /// Applies an event already decoded by the caller.
    public mutating func apply(_ event: RecordedEvent, decoded: DomainEvent) {
        for index in projections.indices where positions[index] < event.position {
            projections[index].apply(event, decoded: decoded)
            positions[index] = event.position
        }
    }

    /// Applies every event of `events` that `asOf` includes (all of them when `asOf` is nil).
    /// - Throws: ``ProjectionStateError/undecodableEvent(position:type:reason:)`` at the first unreadable event.
    public mutating func apply(
        contentsOf events: some Sequence<RecordedEvent>, asOf: AsOf? = nil
    ) throws(ProjectionStateError) {
        for event in events where asOf?.includes(event) ?? true {
            try apply(event)
        }
    }

    /// The projection of type `type`, if the set holds one.
    public func projection<P: Projection>(_ type: P.Type) -> P? {
        for projection in projections {
            if let match = projection as? P { return match }
        }
        return nil
    }

    /// One checkpoint per projection: its name, its last position, and its code version followed by its state.
    public func checkpoints() -> [Checkpoint] {
        projections.indices.map { index in
            let projection = projections[index]
            var writer = PayloadWriter(capacity: 64)
            writer.writeVarUInt(UInt64(projection.codeVersion))
            var bytes = writer.bytes
            bytes.append(contentsOf: projection.encodeState())
            return Checkpoint(name: projection.name, position: positions[index], state: bytes)
        }
    }

    /// Replaces the projection named by `checkpoint` with the state it holds, unless its code version is stale.
    ///
    /// - Returns: ``RestoreOutcome/restored(position:)``, or ``RestoreOutcome/rebuildRequired(stored:current:)``
    ///   when the checkpoint was written by another code version; the projection then stays empty at position 0,
    ///   so applying the log from ``resumePosition`` rebuilds it.
    /// - Throws: ``ProjectionStateError/unknownProjection(_:)`` or ``ProjectionStateError/corruptState(projection:reason:)``.
    @discardableResult
    public mutating func restore(_ checkpoint: Checkpoint) throws(ProjectionStateError) -> RestoreOutcome {
        guard let index = projections.firstIndex(where: { $0.name == checkpoint.name }) else {
            throw .unknownProjection(checkpoint.name)
        }
        let projectionType = type(of: projections[index])
        var reader = PayloadReader(checkpoint.state)
        let stored: UInt64
        do { stored = try reader.readVarUInt() } catch { throw .corrupt(checkpoint.name, error) }
        guard stored == UInt64(projectionType.codeVersion) else {
            projections[index] = projectionType.init()
            positions[index] = .start
            return .rebuildRequired(stored: stored, current: projectionType.codeVersion)
        }
        let state = Array(checkpoint.state[reader.offset...])
        projections[index] = try projectionType.init(decodingState: state)
        positions[index] = checkpoint.position
        return .restored(position: checkpoint.position)
    }

    /// What ``restore(_:)`` did with a checkpoint.
    public enum RestoreOutcome: Hashable, Sendable {
        /// The state was loaded; the projection continues after `position`.
        case restored(position: GlobalPosition)
        /// The checkpoint was written by another code version; the projection starts again from position 0.
        case rebuildRequired(stored: UInt64, current: UInt32)
    }
}
