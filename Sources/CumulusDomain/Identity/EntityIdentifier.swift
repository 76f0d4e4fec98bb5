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

    /// Orders by canonical string so that listings are stable.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }
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
