/// Events for one stream, with the version the writer expects that stream to be at.
public struct StreamAppend: Hashable, Sendable {
    /// The stream to append to.
    public var stream: StreamName
    /// The optimistic-concurrency check.
    public var expectedVersion: ExpectedVersion
    /// The events, in order; at least one.
    public var events: [ProposedEvent]

    /// Describes an append to one stream.
    public init(stream: StreamName, expectedVersion: ExpectedVersion, events: [ProposedEvent]) {
        self.stream = stream
        self.expectedVersion = expectedVersion
        self.events = events
    }
}

/// Where an append to one stream landed.
public struct AppendResult: Hashable, Sendable {
    /// The stream appended to.
    public var stream: StreamName
    /// The position of the first event of the append.
    public var firstPosition: GlobalPosition
    /// The position of the last event of the append.
    public var lastPosition: GlobalPosition
    /// The stream's version after the append (the last event's version).
    public var streamVersion: StreamVersion
    /// True when every event was stored already and nothing was written (an idempotent retry).
    public var wasAlreadyStored: Bool

    /// Assembles a result.
    public init(
        stream: StreamName,
        firstPosition: GlobalPosition,
        lastPosition: GlobalPosition,
        streamVersion: StreamVersion,
        wasAlreadyStored: Bool
    ) {
        self.stream = stream
        self.firstPosition = firstPosition
        self.lastPosition = lastPosition
        self.streamVersion = streamVersion
        self.wasAlreadyStored = wasAlreadyStored
    }
}

/// A projection's saved progress: the last position it has applied and its state at that point.
public struct Checkpoint: Hashable, Sendable {
    /// The projection's name; 1 to 255 bytes of UTF-8.
    public var name: String
    /// The last position the state includes.
    public var position: GlobalPosition
    /// The projection's encoded state.
    public var state: [UInt8]

    /// Assembles a checkpoint.
    public init(name: String, position: GlobalPosition, state: [UInt8]) {
        self.name = name
        self.position = position
        self.state = state
    }
}

/// What ``EventStore/verify(progress:)`` found in a sound log.
public struct VerificationReport: Hashable, Sendable {
    /// How many events were read and checked.
    public var eventCount: UInt64
    /// How many streams the log holds.
    public var streamCount: UInt64
    /// The last position.
    public var lastPosition: GlobalPosition
    /// The hash-chain link of the last event, in hexadecimal (empty for an empty log).
    public var headLink: String
    /// How many checkpoints were checked.
    public var checkpointCount: Int

    /// Assembles a report.
    public init(
        eventCount: UInt64,
        streamCount: UInt64,
        lastPosition: GlobalPosition,
        headLink: String,
        checkpointCount: Int
    ) {
        self.eventCount = eventCount
        self.streamCount = streamCount
        self.lastPosition = lastPosition
        self.headLink = headLink
        self.checkpointCount = checkpointCount
    }
}

/// Sizes and counters of a log.
public struct LogStatistics: Hashable, Sendable {
    /// Stored events.
    public var eventCount: UInt64
    /// Streams with at least one event.
    public var streamCount: UInt64
    /// The last position.
    public var lastPosition: GlobalPosition
    /// Bytes the data file takes on disk, if the backend has one.
    public var fileSize: UInt64?
    /// The memory-map size (the most the file can grow to before the map grows), if the backend has one.
    public var mapSize: UInt64?
    /// Saved projection checkpoints.
    public var checkpointCount: UInt64

    /// Assembles statistics.
    public init(
        eventCount: UInt64,
        streamCount: UInt64,
        lastPosition: GlobalPosition,
        fileSize: UInt64?,
        mapSize: UInt64?,
        checkpointCount: UInt64
    ) {
        self.eventCount = eventCount
        self.streamCount = streamCount
        self.lastPosition = lastPosition
        self.fileSize = fileSize
        self.mapSize = mapSize
        self.checkpointCount = checkpointCount
    }
}
