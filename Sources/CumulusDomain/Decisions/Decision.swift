/// What a decision produced: events grouped by stream, to be appended atomically in one
/// multi-stream append (a refused command produces no decision at all).
public struct Decision: Hashable, Sendable {
    /// Every event in the order it was decided.
    public let events: [DomainEvent]
    /// Streams this decision creates; the caller appends to them expecting no stream.
    public let newStreams: Set<AggregateStream>

    /// Collects `events`; `newStreams` lists the streams they create.
    public init(_ events: [DomainEvent], newStreams: Set<AggregateStream> = []) {
        self.events = events
        self.newStreams = newStreams
    }

    /// The events per stream, streams in order of first appearance, events in decided order.
    ///
    /// The caller appends each change with the version it loaded the stream at (or "no stream" when
    /// ``StreamChange/isNewStream``), all in one atomic multi-stream append.
    public var changes: [StreamChange] {
        // The feed's decisions are one event: no grouping (and no hashing of its stream's name) needed.
        if events.count == 1, let event = events.first {
            let stream = event.stream
            return [
                StreamChange(
                    stream: stream, events: events, isNewStream: !newStreams.isEmpty && newStreams.contains(stream))
            ]
        }
        var order: [AggregateStream] = []
        var grouped: [AggregateStream: [DomainEvent]] = [:]
        for event in events {
            let stream = event.stream
            if grouped[stream] == nil { order.append(stream) }
            grouped[stream, default: []].append(event)
        }
        return order.map { StreamChange(stream: $0, events: grouped[$0] ?? [], isNewStream: newStreams.contains($0)) }
    }

    /// Whether the command changes nothing (e.g. setting a value to what it already is).
    public var isEmpty: Bool { events.isEmpty }
}

/// The events a decision appends to one stream.
public struct StreamChange: Hashable, Sendable {
    /// The stream.
    public let stream: AggregateStream
    /// Its new events, in order.
    public let events: [DomainEvent]
    /// Whether the stream must not exist yet (append with expected version "no stream").
    public let isNewStream: Bool
}
