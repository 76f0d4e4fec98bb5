public import Foundation

/// Reads an event payload written by ``PayloadWriter``; every read is bounds-checked and throws
/// ``PayloadDecodingError`` instead of trapping on truncated or corrupt input.
public struct PayloadReader: Sendable {
    /// The payload.
    public let bytes: [UInt8]
    /// The next byte to read.
    public private(set) var offset: Int

    /// Starts reading at the first byte.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset == bytes.count }

    /// Reads one byte.
    @inline(__always)
    public mutating func readByte() throws(PayloadDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes.
    public mutating func readVarUInt() throws(PayloadDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw .malformed(at: offset, reason: "varint longer than 10 bytes") }
        }
    }

    /// Reads a zigzag varint.
    public mutating func readVarInt() throws(PayloadDecodingError) -> Int64 {
        let raw = try readVarUInt()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Reads 8 little-endian bytes.
    public mutating func readInt64() throws(PayloadDecodingError) -> Int64 {
        guard offset + 8 <= bytes.count else { throw .truncated(at: offset) }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        offset += 8
        return Int64(bitPattern: value)
    }

    /// Reads 2 little-endian bytes.
    public mutating func readUInt16() throws(PayloadDecodingError) -> UInt16 {
        let low = try readByte()
        let high = try readByte()
        return UInt16(low) | UInt16(high) << 8
    }

    /// Reads a varint byte count and that many UTF-8 bytes.
    public mutating func readString() throws(PayloadDecodingError) -> String {
        let count = try readVarUInt()
        guard count <= UInt64(bytes.count - offset) else { throw .truncated(at: offset) }
        let end = offset + Int(count)
        let value = String(decoding: bytes[offset..<end], as: UTF8.self)
        offset = end
        return value
    }

    /// Reads 16 bytes as a UUID.
    public mutating func readUUID() throws(PayloadDecodingError) -> UUID {
        guard offset + 16 <= bytes.count else { throw .truncated(at: offset) }
        let b = bytes
        let o = offset
        offset += 16
        return UUID(
            uuid: (
                b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5], b[o + 6], b[o + 7], b[o + 8], b[o + 9],
                b[o + 10], b[o + 11], b[o + 12], b[o + 13], b[o + 14], b[o + 15]
            ))
    }

    /// Reads `0` or `1`.
    public mutating func readBool() throws(PayloadDecodingError) -> Bool {
        switch try readByte() {
        case 0: return false
        case 1: return true
        default: throw .malformed(at: offset - 1, reason: "boolean byte is neither 0 nor 1")
        }
    }

    /// Reads any payload value.
    public mutating func read<Value: PayloadCodable>(
        _ type: Value.Type = Value.self
    ) throws(PayloadDecodingError)
        -> Value
    {
        try Value(from: &self)
    }
}

/// Why a payload could not be decoded.
public enum PayloadDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The payload ended before a value was complete.
    case truncated(at: Int)
    /// A byte sequence is not a valid value.
    case malformed(at: Int, reason: String)
    /// An enumeration code is not known to this version.
    case unknownCode(UInt8, type: String, at: Int)
    /// Bytes remain after the last field.
    case trailingBytes(count: Int)
    /// The event type name is not known.
    case unknownEventType(String)
    /// The schema version of a known type is newer (or older) than any this build reads.
    case unsupportedSchemaVersion(type: String, version: UInt16)

    /// Names what failed and where.
    public var description: String {
        switch self {
        case .truncated(let at): "payload truncated at byte \(at)"
        case .malformed(let at, let reason): "payload malformed at byte \(at): \(reason)"
        case .unknownCode(let code, let type, let at): "unknown \(type) code \(code) at byte \(at)"
        case .trailingBytes(let count): "payload has \(count) unread trailing bytes"
        case .unknownEventType(let type): "unknown event type `\(type)`"
        case .unsupportedSchemaVersion(let type, let version): "\(type) schema version \(version) is not supported"
        }
    }
}
