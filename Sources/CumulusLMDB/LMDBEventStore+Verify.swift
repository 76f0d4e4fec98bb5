internal import CLMDB
public import CumulusLog

extension LMDBEventStore {
    /// Walks the whole log in one snapshot and checks everything that can be checked.
    ///
    /// - every position from 1 to the last is present, in order;
    /// - every record decodes, and its chain link equals SHA-256(previous link ‖ position ‖ record);
    /// - every stream's versions run 1, 2, 3… and each back-link names the stream's previous event;
    /// - the `streams` heads equal what the records say, and there are no others;
    /// - each event id is indexed at its record's position, and the index holds nothing else;
    /// - the meta chain head equals the last link, and the last write's transaction id is the snapshot's
    ///   (so a damaged meta page that made LMDB fall back to an older commit is caught);
    /// - every checkpoint matches its checksum.
    ///
    /// - Throws: `EventStoreError.integrityViolation(position:reason:)` naming the first damaged position.
    public func verify(progress: (@Sendable (UInt64) -> Void)?) async throws(EventStoreError) -> VerificationReport {
        let layout = environment.mapLayout
        StorageFaults.walk(mapBase: layout.base, pageSize: layout.pageSize)
        defer { StorageFaults.walkEnded() }
        return try await readOnReaderThread { (txn) throws(EventStoreError) -> VerificationReport in
            var link = ChainLink.genesis
            var expectedPosition: UInt64 = 1
            var heads: [StreamName: StreamHead] = [:]
            try txn.forEachRecord(after: 0) { (position, raw) throws(EventStoreError) -> Bool in
                let here = GlobalPosition(position)
                StorageFaults.walking(position: position, record: raw)
                guard position == expectedPosition else {
                    throw .integrityViolation(
                        position: GlobalPosition(expectedPosition),
                        reason: "the event at this position is missing (the next stored is \(position))"
                    )
                }
                let event = try RecordCodec.decode(raw, position: here)
                let stored = RecordCodec.storedLink(raw)
                let expected = RecordCodec.expectedLink(raw, position: here, previous: link)
                guard stored == expected else {
                    throw .integrityViolation(position: here, reason: "the hash chain breaks: the record was altered")
                }
                let previous = heads[event.stream] ?? StreamHead(version: 0, lastPosition: 0)
                guard event.streamVersion.rawValue == previous.version + 1,
                    RecordCodec.previousInStream(raw).rawValue == previous.lastPosition
                else {
                    throw .integrityViolation(
                        position: here,
                        reason: "stream '\(event.stream)' continues at version \(event.streamVersion) after "
                            + "\(previous.version)"
                    )
                }
                heads[event.stream] = StreamHead(version: previous.version + 1, lastPosition: position)
                guard try txn.position(ofEventID: event.id) == position else {
                    throw .integrityViolation(position: here, reason: "the event-id index does not point to this event")
                }
                link = stored
                expectedPosition += 1
                if position % 65_536 == 0 { progress?(position) }
                return true
            }
            let last = expectedPosition - 1
            progress?(last)
            let (chainPosition, chainLink) = try Metadata.chainHead(txn)
            guard chainPosition == last, chainLink == link else {
                throw .integrityViolation(
                    position: GlobalPosition(last),
                    reason: "the recorded chain head (position \(chainPosition)) does not match the last event"
                )
            }
            guard let stamped = try Metadata.lastTransaction(txn), stamped == txn.id else {
                throw .integrityViolation(
                    position: GlobalPosition(last),
                    reason: "the storage engine's meta page does not match the last commit (a damaged or rolled-back "
                        + "meta page)"
                )
            }
            let indexCount = try txn.count(txn.databases.eventIDs)
            guard indexCount == last else {
                throw .integrityViolation(
                    position: nil,
                    reason: "the event-id index holds \(indexCount) entries for \(last) events"
                )
            }
            var streamCount: UInt64 = 0
            try txn.forEach(txn.databases.streams) { (key, value) throws(EventStoreError) -> Bool in
                let name = StreamName(unchecked: String(decoding: key, as: UTF8.self))
                let head = try StreamHead(value)
                guard let computed = heads[name], computed.version == head.version,
                    computed.lastPosition == head.lastPosition
                else {
                    throw .integrityViolation(
                        position: GlobalPosition(head.lastPosition),
                        reason: "the head of stream '\(name)' (version \(head.version)) does not match its events"
                    )
                }
                streamCount += 1
                return true
            }
            guard streamCount == UInt64(heads.count) else {
                throw .integrityViolation(
                    position: nil,
                    reason: "the stream index holds \(streamCount) streams, the events name \(heads.count)"
                )
            }
            var checkpoints = 0
            try txn.forEach(txn.databases.checkpoints) { (key, value) throws(EventStoreError) -> Bool in
                _ = try CheckpointCodec.decode(name: String(decoding: key, as: UTF8.self), value)
                checkpoints += 1
                return true
            }
            return VerificationReport(
                eventCount: last,
                streamCount: streamCount,
                lastPosition: GlobalPosition(last),
                headLink: last == 0 ? "" : link.description,
                checkpointCount: checkpoints
            )
        }
    }
}
