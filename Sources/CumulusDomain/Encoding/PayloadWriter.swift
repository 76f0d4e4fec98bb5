public import Foundation

/// Writes an event payload: little-endian, varints, length-prefixed UTF-8 (format in `docs/domain.md`, "Payload encoding").
///
/// A plain value type over `[UInt8]`; no Foundation formatter or dictionary is involved.
public struct PayloadWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Starts an empty payload with room for `capacity` bytes.
    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Writes one byte.
    public mutating func writeByte(_ value: UInt8) { bytes.append(value) }

    /// Writes an unsigned LEB128 varint (7 bits per byte, high bit = more).
    public mutating func writeVarUInt(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: rest))
    }

    /// Writes a signed integer as a zigzag varint (small magnitudes stay short).
    public mutating func writeVarInt(_ value: Int64) {
        writeVarUInt(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Writes an `Int64` as 8 little-endian bytes (timestamps in microseconds).
    public mutating func writeInt64(_ value: Int64) {
        var rest = UInt64(bitPattern: value)
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: rest))
            rest >>= 8
        }
    }

    /// Writes a `UInt16` as 2 little-endian bytes.
    public mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    /// Writes a varint byte count followed by the UTF-8 bytes.
    public mutating func writeString(_ value: String) {
        writeVarUInt(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// Writes the 16 bytes of a UUID in RFC 4122 order.
    public mutating func writeUUID(_ value: UUID) {
        let u = value.uuid
        bytes.append(contentsOf: [
            u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7, u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15,
        ])
    }

    /// Writes `0` or `1`.
    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Writes any payload value.
    public mutating func write<Value: PayloadCodable>(_ value: Value) { value.encode(to: &self) }
}
