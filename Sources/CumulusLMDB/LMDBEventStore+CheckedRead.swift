public import CumulusLog

extension LMDBEventStore {
    /// Reads one stream like ``read(stream:from:maximumCount:)`` and checks every event it returns: its
    /// chain link (SHA-256 over the previous record's link, its position and its bytes) and its back-link
    /// (the stream's previous event is at the position it names, one version lower).
    ///
    /// Costs one more point read and one SHA-256 per event; `cumulus read` uses it so that an altered record
    /// is refused instead of printed.
    /// - Throws: `EventStoreError.integrityViolation(position:reason:)` naming the first event that fails.
    public func readChecked(
        stream: StreamName,
        from version: StreamVersion,
        maximumCount: Int
    ) async throws(EventStoreError) -> [RecordedEvent] {
        let events = try await read(stream: stream, from: version, maximumCount: maximumCount)
        guard !events.isEmpty else { return events }
        try environment.read { (txn) throws(EventStoreError) in
            for event in events {
                let position = event.position.rawValue
                guard let raw = try txn.record(at: position) else {
                    throw .integrityViolation(position: event.position, reason: "the event vanished while reading")
                }
                try Self.checkLink(raw, at: position, previous: try Self.link(before: position, txn))
                try Self.checkBackLink(raw, of: event, txn)
            }
        }
        return events
    }

    /// Calls `body` with each event after `position`, like ``scan(after:maximumCount:_:)``, checking each
    /// one's chain link against the record before it and its back-link against the stream's previous event.
    ///
    /// The links run on from one record to the next, so the whole log costs one SHA-256 per event; a
    /// back-link is looked up only for the first event of each stream met in this call.
    /// - Returns: the position of the last event passed to `body`, or `position` when there was none.
    /// - Throws: `EventStoreError.integrityViolation(position:reason:)` naming the first event that fails;
    ///   the events before it have been passed to `body`.
    @discardableResult
    public func scanChecked(
        after position: GlobalPosition,
        maximumCount: Int,
        _ body: (RecordedEvent) throws(EventStoreError) -> Void
    ) throws(EventStoreError) -> GlobalPosition {
        guard maximumCount > 0 else { return position }
        return try environment.read { (txn) throws(EventStoreError) -> GlobalPosition in
            // Past the end there is nothing to read, and no record before it to take the link from: not damage.
            guard position.rawValue < (try txn.lastPosition()) else { return position }
            var count = 0
            var last = position
            var link = try Self.link(before: position.rawValue + 1, txn)
            var heads: [StreamName: (version: UInt64, position: UInt64)] = [:]
            var decoder = RecordDecoder()
            try txn.forEachRecord(after: position.rawValue) { (key, raw) throws(EventStoreError) -> Bool in
                let current = GlobalPosition(key)
                guard key == last.rawValue + 1 else {
                    throw .integrityViolation(position: current, reason: "positions jump from \(last) to \(key)")
                }
                let event = try decoder.decode(raw, position: current)
                try Self.checkLink(raw, at: key, previous: link)
                let back = RecordCodec.previousInStream(raw).rawValue
                if let head = heads[event.stream] {
                    guard back == head.position, event.streamVersion.rawValue == head.version + 1 else {
                        throw Self.brokenBackLink(event, back: back)
                    }
                } else {
                    try Self.checkBackLink(raw, of: event, txn)
                }
                heads[event.stream] = (event.streamVersion.rawValue, key)
                link = RecordCodec.storedLink(raw)
                try body(event)
                last = current
                count += 1
                return count < maximumCount
            }
            return last
        }
    }

    /// The stored link of the record before `position` (the genesis link before position 1).
    private static func link(
        before position: UInt64, _ txn: borrowing Transaction
    ) throws(EventStoreError)
        -> ChainLink
    {
        guard position > 1 else { return .genesis }
        guard let raw = try txn.record(at: position - 1), raw.count > 32 else {
            throw .integrityViolation(
                position: GlobalPosition(position - 1), reason: "the event before the one read is missing")
        }
        return RecordCodec.storedLink(raw)
    }

    private static func checkLink(
        _ raw: UnsafeRawBufferPointer, at position: UInt64, previous: ChainLink
    ) throws(EventStoreError) {
        let here = GlobalPosition(position)
        guard raw.count > 32,
            RecordCodec.storedLink(raw) == RecordCodec.expectedLink(raw, position: here, previous: previous)
        else {
            throw .integrityViolation(
                position: here, reason: "the hash chain breaks: the record was altered; nothing of it was printed")
        }
    }

    private static func checkBackLink(
        _ raw: UnsafeRawBufferPointer, of event: RecordedEvent, _ txn: borrowing Transaction
    ) throws(EventStoreError) {
        let back = RecordCodec.previousInStream(raw).rawValue
        let version = event.streamVersion.rawValue
        if back == 0 {
            guard version == 1 else { throw brokenBackLink(event, back: back) }
            return
        }
        guard back < event.position.rawValue, version > 1, let previous = try txn.record(at: back) else {
            throw brokenBackLink(event, back: back)
        }
        let decoded = try RecordCodec.decode(previous, position: GlobalPosition(back))
        guard decoded.stream == event.stream, decoded.streamVersion.rawValue == version - 1 else {
            throw brokenBackLink(event, back: back)
        }
    }

    private static func brokenBackLink(_ event: RecordedEvent, back: UInt64) -> EventStoreError {
        .integrityViolation(
            position: event.position,
            reason: "the back-link of stream '\(event.stream)' version \(event.streamVersion) names position \(back), "
                + "which is not the stream's previous event"
        )
    }
}
