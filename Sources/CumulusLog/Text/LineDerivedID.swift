import Crypto
public import Foundation

/// Ids derived from an input line, so that running the same input again stores nothing twice.
///
/// `cumulus append` and `cumulus import` give every event (and every new entity) that a line leaves without
/// an id this UUID (RFC 9562 version 8):
///
/// ```text
/// h = SHA-256("cumulus-line-id/1" ‖ 0x00 ‖ label ‖ 0x00 ‖ occurrence ‖ 0x00 ‖ line)
/// bytes 0–5   occurredAt in milliseconds since 1970, big-endian, when the line gives one; else h[0…5]
/// bytes 6–15  h[6…15], with the version (8) in the high nibble of byte 6 and the variant (0b10) in the
///             two high bits of byte 8
/// ```
///
/// `line` is the line's UTF-8 bytes with surrounding white space removed; `occurrence` is, in decimal, which
/// occurrence of that exact line in the input this is (1 for the first), so a line repeated on purpose in
/// one input still gets distinct ids; `label` names what the id is for (`event 0`, `event 1`… for the
/// events of an `append` line, `eventId`, `tenant`, `user`… for `import`). The time prefix keeps ids of a
/// time-ordered feed in order, which keeps the event-id index's writes at its right edge.
public enum LineDerivedID {
    /// The id for `label` of the `occurrence`-th copy of `line` in one input.
    public static func uuid(
        line: some Sequence<UInt8>,
        occurrence: Int,
        label: String,
        occurredAt: Timestamp?
    ) -> UUID {
        var hasher = SHA256()
        hasher.update(data: Array("cumulus-line-id/1".utf8) + [0] + Array(label.utf8) + [0])
        hasher.update(data: Array(String(occurrence).utf8) + [0])
        hasher.update(data: Array(line))
        var bytes = Array(hasher.finalize())
        if let occurredAt {
            let milliseconds = UInt64(bitPattern: occurredAt.microsecondsSinceEpoch / 1000)
            for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
        }
        bytes[6] = 0x80 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// Counts the occurrences of each line of one input, in order.
    public struct Occurrences: Sendable {
        private var counts: [String: Int] = [:]

        /// A counter that has seen nothing yet.
        public init() {}

        /// Which occurrence of `line` this is (1 for the first), counting it.
        public mutating func next(_ line: String) -> Int {
            let count = counts[line, default: 0] + 1
            counts[line] = count
            return count
        }
    }
}
