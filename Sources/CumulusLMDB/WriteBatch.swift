internal import CLMDB
import CumulusLog

/// A stream's head: its version and the position of its last event.
struct StreamHead {
    var version: UInt64
    var lastPosition: UInt64

    static let encodedSize = 16

    init(version: UInt64, lastPosition: UInt64) {
        self.version = version
        self.lastPosition = lastPosition
    }

    init(_ raw: UnsafeRawBufferPointer) throws(EventStoreError) {
        guard raw.count == Self.encodedSize else {
            throw .integrityViolation(position: nil, reason: "a stream head has \(raw.count) bytes, not 16")
        }
        version = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        lastPosition = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    static func read(_ stream: StreamName, in txn: borrowing Transaction) throws(EventStoreError) -> StreamHead? {
        let key = Array(stream.rawValue.utf8)
        guard
            let raw = try withBytes(
                key,
                { (raw) throws(EventStoreError) in
                    try txn.get(txn.databases.streams, key: raw)
                })
        else { return nil }
        return try StreamHead(raw)
    }
}

/// Everything one write transaction appends: it validates each request against what the transaction
/// sees (including earlier requests of the same group), then writes it.
///
/// A refusal (version mismatch, id conflict) comes back as a `Result.failure` for that request alone and
/// writes nothing of it; a thrown error is the storage engine's and fails the whole transaction.
///
/// Page economy: events go to the end of the `events` tree with `MDB_APPEND`; each stream's head is
/// written once per transaction however many of its events the transaction holds; new event ids are
/// time-ordered and land at the right edge of the `eventIDs` tree.
///
/// Work economy: records are encoded straight into the space LMDB reserves for them; records and ids above
/// the greatest go in through cursors that stay at the end of their trees (no search); stream heads are
/// read, and written at the end, in key order through one cursor, so that neighbours share a page search;
/// streams are numbered in a ``StreamTable`` rather than hashed per event.
struct WriteBatch {
    private(set) var lastPosition: UInt64
    private var link: ChainLink
    private var streams = StreamTable()
    /// Every slot whose head was read, in runs sorted by key (one run per request): the order heads are written in.
    private var touched: [Int] = []
    /// The slot of each append of the request being applied.
    private var appendSlots: [Int] = []
    /// Slots of the request being applied whose heads are still to be read.
    private var unread: [Int] = []
    private var requestCount = 0
    /// One time for the whole transaction; a copy sets each event's own (``copy(_:_:)``).
    private var recordedAt = Timestamp.now
    private(set) var wroteAnything = false
    /// The greatest id indexed so far: an id above it cannot be stored already, so its lookup is skipped
    /// (time-ordered ids, the common case, are always above it) and it is appended to the index.
    private var greatestID: EventID.OrderKey?
    private let records: WriteCursor
    private let eventIDs: WriteCursor
    private let heads: WriteCursor

    init(_ txn: borrowing Transaction) throws(EventStoreError) {
        // Read inside the transaction, never cached across them: another process may have appended.
        lastPosition = try txn.lastPosition()
        let (chainPosition, chainLink) = try Metadata.chainHead(txn)
        guard chainPosition == lastPosition else {
            throw .integrityViolation(
                position: GlobalPosition(lastPosition),
                reason: "the chain head names position \(chainPosition) but the last event is at \(lastPosition)"
            )
        }
        link = chainLink
        greatestID = try txn.greatestEventID()
        records = try WriteCursor(txn, txn.databases.events, "events")
        eventIDs = try WriteCursor(txn, txn.databases.eventIDs, "eventIDs")
        heads = try WriteCursor(txn, txn.databases.streams, "streams")
    }

    /// Validates and writes one atomic request of one or more streams.
    mutating func apply(
        _ appends: [StreamAppend],
        _ txn: borrowing Transaction
    ) throws(EventStoreError) -> Result<[AppendResult], EventStoreError> {
        requestCount += 1
        // 1. A slot for each stream, new streams sorted by key; a request naming a stream twice is refused.
        // The results are made here, where each stream name is read anyway: step 5 fills in positions and
        // versions without touching the names again.
        let known = streams.count
        var results: [AppendResult] = []
        if let refusal = numberStreams(of: appends, results: &results) { return .failure(refusal) }
        // 2. Idempotency: events stored already (by an earlier call or earlier in this group).
        var stored: [(EventID, UInt64)] = []
        var new: EventID?
        for index in appends.indices {
            for item in appends[index].events.indices {
                let id = appends[index].events[item].id
                if let greatestID, id.orderKey > greatestID {
                    if new == nil { new = id }
                    continue
                }
                let event = appends[index].events[item]
                let stream = appends[index].stream
                if let position = try txn.position(ofEventID: event.id) {
                    guard let raw = try txn.record(at: position) else {
                        throw .integrityViolation(
                            position: GlobalPosition(position),
                            reason: "the event-id index names a position with no event"
                        )
                    }
                    let original = try RecordCodec.decode(raw, position: GlobalPosition(position))
                    guard original.hasSameContent(as: event, in: stream) else {
                        streams.removeSlots(from: known)
                        return .failure(.eventIDConflict(id: event.id, storedAt: GlobalPosition(position)))
                    }
                    stored.append((event.id, position))
                } else if new == nil {
                    new = event.id
                }
            }
        }
        if let first = stored.first {
            // The new streams' heads are not read: forget them.
            streams.removeSlots(from: known)
            guard new == nil else {
                return .failure(.partiallyStored(id: first.0, storedAt: GlobalPosition(first.1)))
            }
            return .success(try originalResults(of: appends, stored: stored, txn))
        }
        // 3. The heads of streams new to this transaction, in key order.
        try readNewHeads()
        // 4. Optimistic concurrency.
        for index in appends.indices {
            let current = streams.slots[appendSlots[index]].head
            guard appends[index].expectedVersion.isSatisfied(by: StreamVersion(current.version)) else {
                return .failure(
                    .wrongExpectedVersion(
                        stream: appends[index].stream,
                        expected: appends[index].expectedVersion,
                        actual: StreamVersion(current.version)
                    )
                )
            }
        }
        // 5. Write. The records take each stream's name from the table's bytes (its key).
        let keys = streams.keys
        try withBytes(keys) { (keys) throws(EventStoreError) in
            for index in appends.indices {
                let slot = appendSlots[index]
                let streamName = streams.key(of: slot, in: keys)
                var head = streams.slots[slot].head
                let first = lastPosition + 1
                try appends[index].events.withUnsafeBufferPointer { (events) throws(EventStoreError) in
                    for event in events.indices {
                        try write(events[event], streamName: streamName, head: &head)
                    }
                }
                streams.setHead(head, of: slot, dirty: true)
                results[index].firstPosition = GlobalPosition(first)
                results[index].lastPosition = GlobalPosition(lastPosition)
                results[index].streamVersion = StreamVersion(head.version)
            }
        }
        wroteAnything = true
        return .success(results)
    }

    /// Finds the slot of each append's stream, adding the streams new to this transaction (their heads
    /// unread, sorted by key in `unread`); a refusal, with the new slots forgotten, when the request names a
    /// stream twice.
    private mutating func numberStreams(
        of appends: [StreamAppend],
        results: inout [AppendResult]
    ) -> EventStoreError? {
        appendSlots.removeAll(keepingCapacity: true)
        unread.removeAll(keepingCapacity: true)
        results.reserveCapacity(appends.count)
        let known = streams.count
        if streams.isEmpty {
            // The first request: every stream is new, and no lookup by name is needed (a name given twice
            // shows up below, next to itself once sorted).
            streams.reserveCapacity(appends.count)
            for index in appends.indices {
                let stream = appends[index].stream
                let slot = streams.add(stream, for: requestCount)
                appendSlots.append(slot)
                unread.append(slot)
                results.append(Self.pendingResult(stream))
            }
        } else {
            for index in appends.indices {
                let stream = appends[index].stream
                results.append(Self.pendingResult(stream))
                if let slot = streams.slot(of: stream) {
                    guard streams.claim(slot, for: requestCount) else {
                        streams.removeSlots(from: known)
                        return .duplicateStreamInAppend(stream)
                    }
                    appendSlots.append(slot)
                } else {
                    let slot = streams.add(stream, for: requestCount)
                    appendSlots.append(slot)
                    unread.append(slot)
                }
            }
        }
        streams.sort(&unread)
        for index in unread.indices.dropFirst() where streams.sameName(unread[index - 1], unread[index]) {
            let stream = streams.names[unread[index]]
            streams.removeSlots(from: known)
            return .duplicateStreamInAppend(stream)
        }
        return nil
    }

    /// Reads the heads of the slots in `unread`, in key order through one cursor.
    private mutating func readNewHeads() throws(EventStoreError) {
        let heads = self.heads
        for slot in unread {
            let head = try streams.withKey(of: slot) { (key) throws(EventStoreError) -> StreamHead? in
                guard let raw = try heads.value(at: key) else { return nil }
                return try StreamHead(raw)
            }
            if let head { streams.setHead(head, of: slot, dirty: false) }
        }
        touched.append(contentsOf: unread)
    }

    private static func pendingResult(_ stream: StreamName) -> AppendResult {
        AppendResult(
            stream: stream,
            firstPosition: .start,
            lastPosition: .start,
            streamVersion: StreamVersion(0),
            wasAlreadyStored: false
        )
    }

    /// Appends one event after `head`, indexes its id, and advances `head`, the position and the chain.
    private mutating func write(
        _ event: ProposedEvent,
        streamName: UnsafeRawBufferPointer,
        head: inout StreamHead
    ) throws(EventStoreError) {
        let position = lastPosition + 1
        let version = head.version + 1
        let previousInStream = head.lastPosition
        let previousLink = link
        let recordedAt = self.recordedAt
        let records = self.records
        var key = position.bigEndian
        link = try withUnsafeBytes(of: &key) { (key) throws(EventStoreError) -> ChainLink in
            try records.append(
                key: key,
                reserving: RecordCodec.size(of: event, streamByteCount: streamName.count),
                "append event at position \(position)"
            ) { record in
                RecordCodec.encode(
                    event,
                    streamName: streamName,
                    version: StreamVersion(version),
                    previousInStream: GlobalPosition(previousInStream),
                    recordedAt: recordedAt,
                    position: GlobalPosition(position),
                    previousLink: previousLink,
                    into: record
                )
            }
        }
        let id = event.id.orderKey
        let appending = greatestID.map { id > $0 } ?? true
        var idBytes = (id.high.bigEndian, id.low.bigEndian)  // the uuid's 16 bytes, in order
        let eventIDs = self.eventIDs
        try withUnsafeBytes(of: &idBytes) { (idKey) throws(EventStoreError) in
            try withUnsafeBytes(of: &key) { (positionValue) throws(EventStoreError) in
                try eventIDs.put(
                    key: idKey,
                    value: positionValue,
                    appending: appending,
                    overwriting: false,
                    "index event id \(event.id)"
                )
            }
        }
        if appending { greatestID = id }
        head = StreamHead(version: version, lastPosition: position)
        lastPosition = position
    }

    private func originalResults(
        of appends: [StreamAppend],
        stored: [(EventID, UInt64)],
        _ txn: borrowing Transaction
    ) throws(EventStoreError) -> [AppendResult] {
        var index = 0
        var results: [AppendResult] = []
        for append in appends {
            let positions = stored[index..<index + append.events.count].map(\.1)
            index += append.events.count
            let first = positions.min() ?? 0
            let last = positions.max() ?? 0
            guard let raw = try txn.record(at: last) else {
                throw .integrityViolation(position: GlobalPosition(last), reason: "indexed event is missing")
            }
            results.append(
                AppendResult(
                    stream: append.stream,
                    firstPosition: GlobalPosition(first),
                    lastPosition: GlobalPosition(last),
                    streamVersion: RecordCodec.streamVersion(raw),
                    wasAlreadyStored: true
                )
            )
        }
        return results
    }

    /// Writes events copied from another log, each at its own position and with its own recorded time, so that
    /// records and chain links come out identical; a refusal when an event does not continue this log (its
    /// position, its stream's version) or its id is stored already. Nothing of a refused copy is kept: the
    /// caller abandons the transaction.
    mutating func copy(
        _ events: [RecordedEvent], _ txn: borrowing Transaction
    ) throws(EventStoreError) -> EventStoreError? {
        for event in events {
            guard event.position.rawValue == lastPosition + 1, event.streamVersion.rawValue > 0 else {
                return .integrityViolation(
                    position: event.position,
                    reason: "the copied event does not continue the target log at position \(lastPosition + 1)")
            }
            recordedAt = event.recordedAt
            let proposed = ProposedEvent(
                id: event.id, type: event.type, schemaVersion: event.schemaVersion, occurredAt: event.occurredAt,
                actor: event.actor, correlationID: event.correlationID, causationID: event.causationID,
                payload: event.payload)
            let expected = ExpectedVersion.exactly(StreamVersion(event.streamVersion.rawValue - 1))
            switch try apply([StreamAppend(stream: event.stream, expectedVersion: expected, events: [proposed])], txn) {
            case .failure(let refusal): return refusal
            case .success(let results) where results.first?.wasAlreadyStored ?? true:
                return .integrityViolation(
                    position: event.position, reason: "event \(event.id) is in the target already")
            case .success: continue
            }
        }
        return nil
    }

    /// Saves a checkpoint: position (8 bytes little-endian), SHA-256 of name ‖ position ‖ state, state.
    mutating func save(_ checkpoint: Checkpoint, _ txn: borrowing Transaction) throws(EventStoreError) {
        let value = CheckpointCodec.encode(checkpoint)
        let key = Array(checkpoint.name.utf8)
        try withBytes(key) { (keyRaw) throws(EventStoreError) in
            try withBytes(value) { (valueRaw) throws(EventStoreError) in
                try txn.put(
                    txn.databases.checkpoints, key: keyRaw, value: valueRaw, "save checkpoint \(checkpoint.name)")
            }
        }
        wroteAnything = true
    }

    /// Writes the heads of the streams this transaction touched, the chain head and the transaction stamp.
    mutating func finish(_ txn: borrowing Transaction) throws(EventStoreError) {
        // In key order, as the B-tree keeps them: neighbours often share a page, and the cursor then skips
        // the search from the root. Each request's slots are sorted already, so this merges a few runs.
        streams.sort(&touched)
        let heads = self.heads
        for slot in touched where streams.slots[slot].isDirty {
            let head = streams.slots[slot].head
            var value = (head.version.littleEndian, head.lastPosition.littleEndian)
            try withUnsafeBytes(of: &value) { (valueRaw) throws(EventStoreError) in
                try streams.withKey(of: slot) { (keyRaw) throws(EventStoreError) in
                    try heads.put(key: keyRaw, value: valueRaw, "write head of \(streams.names[slot])")
                }
            }
        }
        if wroteAnything {
            try Metadata.writeChainHead(txn, position: lastPosition, link: link)
            try Metadata.stampTransaction(txn)
        }
    }
}

/// The stored form of a checkpoint, with a checksum so that `verify` and `load` notice damage.
enum CheckpointCodec {
    static func encode(_ checkpoint: Checkpoint) -> [UInt8] {
        let position = bytes(of: checkpoint.position.rawValue.littleEndian)
        let digest = sha256(Array(checkpoint.name.utf8), position, checkpoint.state)
        return position + digest + checkpoint.state
    }

    static func decode(name: String, _ raw: UnsafeRawBufferPointer) throws(EventStoreError) -> Checkpoint {
        guard raw.count >= 40 else {
            throw .integrityViolation(position: nil, reason: "checkpoint '\(name)' is truncated")
        }
        let position = Array(UnsafeRawBufferPointer(rebasing: raw[0..<8]))
        let digest = Array(UnsafeRawBufferPointer(rebasing: raw[8..<40]))
        let state = Array(UnsafeRawBufferPointer(rebasing: raw[40...]))
        guard sha256(Array(name.utf8), position, state) == digest else {
            throw .integrityViolation(position: nil, reason: "checkpoint '\(name)' does not match its checksum")
        }
        let value = position.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        return Checkpoint(name: name, position: GlobalPosition(value), state: state)
    }
}
