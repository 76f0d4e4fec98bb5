import CumulusDomain
import CumulusLog

/// The order of a per-user fact: `occurredAt` first, ties broken by log position (domain.md §8).
struct ChangeKey: Hashable, Comparable, Sendable {
    /// Microseconds since the epoch when the change happened at its source.
    var occurredAt: Int64
    /// The log position, unique per event.
    var position: UInt64

    init(occurredAt: Int64, position: UInt64) {
        self.occurredAt = occurredAt
        self.position = position
    }

    init(_ event: RecordedEvent) {
        occurredAt = event.occurredAt.microsecondsSinceEpoch
        position = event.position.rawValue
    }

    static func < (lhs: ChangeKey, rhs: ChangeKey) -> Bool {
        lhs.occurredAt != rhs.occurredAt ? lhs.occurredAt < rhs.occurredAt : lhs.position < rhs.position
    }

    var timestamp: Timestamp { Timestamp(microsecondsSinceEpoch: occurredAt) }
}

extension ChangeKey: PayloadCodable {
    func encode(to writer: inout PayloadWriter) {
        writer.writeInt64(occurredAt)
        writer.writeVarUInt(position)
    }

    init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        occurredAt = try reader.readInt64()
        position = try reader.readVarUInt()
    }
}
