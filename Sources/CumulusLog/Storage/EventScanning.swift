/// A backend that can hand events to a synchronous consumer without collecting them in an array first:
/// the fast path for rebuilds, which read millions of events.
public protocol EventScanning: EventStore {
    /// Calls `body` with each event after `position`, in order, at most `maximumCount` of them.
    /// - Returns: the position of the last event passed to `body`, or `position` when there was none.
    @discardableResult
    func scan(
        after position: GlobalPosition,
        maximumCount: Int,
        _ body: (RecordedEvent) throws(EventStoreError) -> Void
    ) throws(EventStoreError) -> GlobalPosition

    /// Like ``scan(after:maximumCount:_:)``, for `async` callers: a backend whose reads block runs the scan on
    /// threads of its own while the caller is suspended, so that no blocking storage work runs on Swift's
    /// cooperative pool. `body` never runs at the same time as the caller.
    @discardableResult
    func scanOnReaderThread(
        after position: GlobalPosition,
        maximumCount: Int,
        _ body: (RecordedEvent) throws(EventStoreError) -> Void
    ) async throws(EventStoreError) -> GlobalPosition

    /// Like ``scanOnReaderThread(after:maximumCount:_:)``, without copying the payloads: `body` gets each event
    /// with an empty `payload`, and that payload's bytes, valid only during the call (a backend with a memory map
    /// hands the bytes where they lie in the map). For a consumer that reads every payload once on the spot, such
    /// as a rebuild: a copy would be an array allocated and freed per event.
    @discardableResult
    func scanInPlaceOnReaderThread(
        after position: GlobalPosition,
        maximumCount: Int,
        _ body: (RecordedEvent, UnsafeRawBufferPointer) throws(EventStoreError) -> Void
    ) async throws(EventStoreError) -> GlobalPosition

    /// The positions of the events with these ids, `nil` where none is stored, found in one read: what a batch
    /// of commands with event ids checks before deciding (one lookup each through ``EventStore/event(id:)`` costs
    /// two executor hops and a full decode per command).
    /// A backend whose reads block does the lookup on threads of its own.
    func positions(ofEventIDs ids: [EventID]) async throws(EventStoreError) -> [GlobalPosition?]
}

extension EventScanning {
    /// Scans on the calling task; for backends whose reads do not block (in memory).
    @discardableResult
    public func scanOnReaderThread(
        after position: GlobalPosition,
        maximumCount: Int,
        _ body: (RecordedEvent) throws(EventStoreError) -> Void
    ) async throws(EventStoreError) -> GlobalPosition {
        try scan(after: position, maximumCount: maximumCount, body)
    }

    /// Scans with ``scanOnReaderThread(after:maximumCount:_:)`` and hands each event's payload as bytes: for
    /// backends that hold the payloads as arrays anyway (in memory).
    @discardableResult
    public func scanInPlaceOnReaderThread(
        after position: GlobalPosition,
        maximumCount: Int,
        _ body: (RecordedEvent, UnsafeRawBufferPointer) throws(EventStoreError) -> Void
    ) async throws(EventStoreError) -> GlobalPosition {
        try await scanOnReaderThread(after: position, maximumCount: maximumCount) { (event) throws(EventStoreError) in
            var envelope = event
            envelope.payload = []
            var failure: EventStoreError?
            event.payload.withUnsafeBytes { bytes in
                do throws(EventStoreError) { try body(envelope, bytes) } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }
}
