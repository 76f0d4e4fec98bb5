public import CumulusLog

extension LMDBEventStore {
    /// Stores events read from another log at their own positions, with their recorded times, so that records
    /// and the chain come out identical; for `cumulus copy`. The first event must follow this log's last one.
    ///
    /// - Throws: `EventStoreError.integrityViolation(position:reason:)` when an event does not continue the
    ///   log; nothing of the batch is written then. `EventStoreError.readOnly(path:)` when the store was opened
    ///   read-only.
    public func appendCopied(_ events: [RecordedEvent]) async throws(EventStoreError) {
        guard !events.isEmpty else { return }
        let committer = try writer()
        let result = await withCheckedContinuation { continuation in
            if !committer.submit(.copy(events, continuation)) { continuation.resume(returning: .failure(.closed)) }
        }
        try result.get()
    }
}
