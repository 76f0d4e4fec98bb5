internal import CLMDB
import CumulusLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    var encoded: [UInt8] { bytes(of: version.littleEndian) + bytes(of: lastPosition.littleEndian) }

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
struct WriteBatch {
    private(set) var lastPosition: UInt64
    private var link: ChainLink
    private var heads: [StreamName: StreamHead] = [:]
    private var dirty: Set<StreamName> = []
    private var buffer: [UInt8] = []
    private let recordedAt = Timestamp.now
    private(set) var wroteAnything = false
    /// The greatest id indexed so far: an id above it cannot be stored already, so its lookup is skipped
    /// (time-ordered ids, the common case, are always above it).
    private var greatestID: EventID.OrderKey?

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
    }

    private mutating func head(
        of stream: StreamName, _ txn: borrowing Transaction
    ) throws(EventStoreError) -> StreamHead {
        if let head = heads[stream] { return head }
        let head = try StreamHead.read(stream, in: txn) ?? StreamHead(version: 0, lastPosition: 0)
        heads[stream] = head
        return head
    }

    /// Validates and writes one atomic request of one or more streams.
    mutating func apply(
        _ appends: [StreamAppend],
        _ txn: borrowing Transaction
    ) throws(EventStoreError) -> Result<[AppendResult], EventStoreError> {
        // 1. Idempotency: events stored already (by an earlier call or earlier in this group).
        var stored: [(EventID, UInt64)] = []
        var new: EventID?
        for append in appends {
            for event in append.events {
                if let greatestID, event.id.orderKey > greatestID {
                    if new == nil { new = event.id }
                    continue
                }
                if let position = try txn.position(ofEventID: event.id) {
                    guard let raw = try txn.record(at: position) else {
                        throw .integrityViolation(
                            position: GlobalPosition(position),
                            reason: "the event-id index names a position with no event"
                        )
                    }
                    let original = try RecordCodec.decode(raw, position: GlobalPosition(position))
                    guard original.hasSameContent(as: event, in: append.stream) else {
                        return .failure(.eventIDConflict(id: event.id, storedAt: GlobalPosition(position)))
                    }
                    stored.append((event.id, position))
                } else if new == nil {
                    new = event.id
                }
            }
        }
        if !stored.isEmpty {
            guard new == nil, let first = stored.first else {
                return .failure(.partiallyStored(id: stored[0].0, storedAt: GlobalPosition(stored[0].1)))
            }
            _ = first
            return .success(try originalResults(of: appends, stored: stored, txn))
        }
        // 2. Optimistic concurrency.
        for append in appends {
            let current = try head(of: append.stream, txn)
            guard append.expectedVersion.isSatisfied(by: StreamVersion(current.version)) else {
                return .failure(
                    .wrongExpectedVersion(
                        stream: append.stream,
                        expected: append.expectedVersion,
                        actual: StreamVersion(current.version)
                    )
                )
            }
        }
        // 3. Write.
        var results: [AppendResult] = []
        results.reserveCapacity(appends.count)
        for append in appends {
            var current = try head(of: append.stream, txn)
            let first = lastPosition + 1
            for event in append.events {
                let position = lastPosition + 1
                let version = current.version + 1
                link = RecordCodec.encode(
                    event,
                    stream: append.stream,
                    version: StreamVersion(version),
                    previousInStream: GlobalPosition(current.lastPosition),
                    recordedAt: recordedAt,
                    position: GlobalPosition(position),
                    previousLink: link,
                    into: &buffer
                )
                try withBytes(buffer) { (record) throws(EventStoreError) in
                    try txn.appendRecord(at: position, record)
                }
                try txn.index(eventID: event.id, at: position)
                let key = event.id.orderKey
                if greatestID.map({ key > $0 }) ?? true { greatestID = key }
                current = StreamHead(version: version, lastPosition: position)
                lastPosition = position
            }
            heads[append.stream] = current
            dirty.insert(append.stream)
            wroteAnything = true
            results.append(
                AppendResult(
                    stream: append.stream,
                    firstPosition: GlobalPosition(first),
                    lastPosition: GlobalPosition(lastPosition),
                    streamVersion: StreamVersion(current.version),
                    wasAlreadyStored: false
                )
            )
        }
        return .success(results)
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
        // In byte order, as the B-tree keeps them: memcmp, cheaper than Swift's string comparison.
        for stream in dirty.sorted(by: { bytesPrecede($0.rawValue, $1.rawValue) }) {
            guard let head = heads[stream] else { continue }
            let key = Array(stream.rawValue.utf8)
            let value = head.encoded
            try withBytes(key) { (keyRaw) throws(EventStoreError) in
                try withBytes(value) { (valueRaw) throws(EventStoreError) in
                    try txn.put(txn.databases.streams, key: keyRaw, value: valueRaw, "write head of \(stream)")
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

/// Whether `lhs` sorts before `rhs` byte by byte (LMDB's key order), compared with `memcmp`.
func bytesPrecede(_ lhs: String, _ rhs: String) -> Bool {
    var left = lhs
    var right = rhs
    return left.withUTF8 { a in
        right.withUTF8 { b in
            let common = min(a.count, b.count)
            guard common > 0, let first = a.baseAddress, let second = b.baseAddress else { return a.count < b.count }
            let order = memcmp(first, second, common)
            return order != 0 ? order < 0 : a.count < b.count
        }
    }
}
