public import Foundation

/// A UUID-backed identifier of one kind of entity, written in lowercase canonical form.
///
/// Each entity kind has its own type so that a `UserID` can never be passed where a `ServiceID` is
/// expected; they are plain values and therefore `Sendable`.
public protocol EntityIdentifier: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The underlying UUID.
    var uuid: UUID { get }
    /// Wraps a UUID.
    init(_ uuid: UUID)
}

extension EntityIdentifier {
    /// Parses the canonical 36-character form (any letter case); `nil` if it is not a UUID.
    public init?(string: String) {
        guard string.utf8.count == 36, let uuid = UUID(uuidString: string) else { return nil }
        self.init(uuid)
    }

    /// The lowercase canonical string, e.g. `6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11`.
    ///
    /// Formatted by hand: stream names are built from it for every event, and Foundation's `uuidString`
    /// goes through `snprintf` (measured as the largest single cost of the feed path).
    public var description: String { lowercaseUUIDString(uuid) }

    /// Orders as the canonical strings order (listings are stable), by comparing the bytes: lowercase hexadecimal
    /// digits keep the bytes' order and the dashes stand at the same places, so no string is made.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        let (left, right) = (lhs.halves, rhs.halves)
        return left.high != right.high ? left.high < right.high : left.low < right.low
    }

    /// Hashes the UUID as two 64-bit words: every user-keyed projection looks a user up per event, and hashing
    /// the 16 bytes one by one (`UUID`'s own `hash(into:)`) was a visible part of a rebuild.
    public func hash(into hasher: inout Hasher) {
        let (high, low) = halves
        hasher.combine(high)
        hasher.combine(low)
    }

    /// The UUID's bytes as two big-endian 64-bit words (so that their order is the bytes' order).
    private var halves: (high: UInt64, low: UInt64) {
        withUnsafeBytes(of: uuid.uuid) { bytes in
            (
                UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
    }
}

/// The lowercase canonical form of a UUID (`8-4-4-4-12` hexadecimal digits).
func lowercaseUUIDString(_ uuid: UUID) -> String {
    let digits: StaticString = "0123456789abcdef"
    return withUnsafeBytes(of: uuid.uuid) { bytes in
        String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            digits.withUTF8Buffer { hex in
                for (offset, byte) in bytes.enumerated() {
                    if offset == 4 || offset == 6 || offset == 8 || offset == 10 {
                        buffer[index] = 0x2D
                        index += 1
                    }
                    buffer[index] = hex[Int(byte >> 4)]
                    buffer[index + 1] = hex[Int(byte & 0x0F)]
                    index += 2
                }
            }
            return index
        }
    }
}
