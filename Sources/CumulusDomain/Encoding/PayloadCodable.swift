public import Foundation

/// A value with a compact binary payload form (see `docs/domain.md`, "Payload encoding").
public protocol PayloadCodable: Sendable {
    /// Appends this value.
    func encode(to writer: inout PayloadWriter)
    /// Reads a value written by ``encode(to:)``.
    init(from reader: inout PayloadReader) throws(PayloadDecodingError)
}

extension String: PayloadCodable {
    /// Length-prefixed UTF-8.
    public func encode(to writer: inout PayloadWriter) { writer.writeString(self) }
    /// Length-prefixed UTF-8.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) { self = try reader.readString() }
}

extension Bool: PayloadCodable {
    /// One byte.
    public func encode(to writer: inout PayloadWriter) { writer.writeBool(self) }
    /// One byte.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) { self = try reader.readBool() }
}

extension Int: PayloadCodable {
    /// Zigzag varint.
    public func encode(to writer: inout PayloadWriter) { writer.writeVarInt(Int64(self)) }
    /// Zigzag varint.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self = Int(truncatingIfNeeded: try reader.readVarInt())
    }
}

extension UUID: PayloadCodable {
    /// 16 bytes.
    public func encode(to writer: inout PayloadWriter) { writer.writeUUID(self) }
    /// 16 bytes.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) { self = try reader.readUUID() }
}

extension Optional: PayloadCodable where Wrapped: PayloadCodable {
    /// A presence byte (0/1), then the value.
    public func encode(to writer: inout PayloadWriter) {
        switch self {
        case .none: writer.writeByte(0)
        case .some(let value):
            writer.writeByte(1)
            value.encode(to: &writer)
        }
    }

    /// A presence byte (0/1), then the value.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self = try reader.readBool() ? .some(try Wrapped(from: &reader)) : .none
    }
}

extension Array: PayloadCodable where Element: PayloadCodable {
    /// A varint count, then the elements.
    public func encode(to writer: inout PayloadWriter) {
        writer.writeVarUInt(UInt64(count))
        for element in self { element.encode(to: &writer) }
    }

    /// A varint count, then the elements.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        let count = try reader.readVarUInt()
        // Each element takes at least one byte, so a larger count is corrupt, not a reason to allocate.
        guard count <= UInt64(reader.bytes.count - reader.offset) else { throw .truncated(at: reader.offset) }
        var elements: [Element] = []
        elements.reserveCapacity(Int(count))
        for _ in 0..<count { elements.append(try Element(from: &reader)) }
        self = elements
    }
}

extension PayloadCodable where Self: EntityIdentifier {
    /// 16 bytes.
    public func encode(to writer: inout PayloadWriter) { writer.writeUUID(uuid) }
    /// 16 bytes.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) { self.init(try reader.readUUID()) }
}

extension TenantID: PayloadCodable {}
extension OUID: PayloadCodable {}
extension ServiceID: PayloadCodable {}
extension UserID: PayloadCodable {}
extension PartnerID: PayloadCodable {}

extension PayloadCodable where Self: StoredEnumeration {
    /// One byte: the stored code.
    public func encode(to writer: inout PayloadWriter) { writer.writeByte(code) }
    /// One byte: the stored code.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        let byte = try reader.readByte()
        guard let value = Self(code: byte) else {
            throw .unknownCode(byte, type: String(describing: Self.self), at: reader.offset - 1)
        }
        self = value
    }
}

extension TenantState: PayloadCodable {}
extension Lifecycle: PayloadCodable {}
extension ServiceType: PayloadCodable {}
extension ProvisioningSource: PayloadCodable {}
extension MembershipRole: PayloadCodable {}
extension LicenceKind: PayloadCodable {}
extension Availability: PayloadCodable {}
extension Activity: PayloadCodable {}
extension ServiceProvisioningPolicy: PayloadCodable {}
extension DefaultTeamOwnerRole: PayloadCodable {}
extension InteractAuthorization: PayloadCodable {}
extension TeamVisibility: PayloadCodable {}
extension AssignableRole: PayloadCodable {}

extension UserStateName: PayloadCodable {
    /// One byte (0 = custom, then its name; 1 = ACW; 2 = RONA).
    public func encode(to writer: inout PayloadWriter) {
        switch self {
        case .custom(let name):
            writer.writeByte(0)
            writer.writeString(name)
        case .afterCallWork: writer.writeByte(1)
        case .redirectedOnNoAnswer: writer.writeByte(2)
        }
    }

    /// One byte (0 = custom, then its name; 1 = ACW; 2 = RONA).
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        switch try reader.readByte() {
        case 0: self = .custom(try reader.readString())
        case 1: self = .afterCallWork
        case 2: self = .redirectedOnNoAnswer
        case let other: throw .unknownCode(other, type: "UserStateName", at: reader.offset - 1)
        }
    }
}

extension PersonalData: PayloadCodable where Value: PayloadCodable {
    /// A form byte (0 = clear text), then the value. Form 1 is reserved for the per-person sealed form.
    public func encode(to writer: inout PayloadWriter) {
        writer.writeByte(0)
        value.encode(to: &writer)
    }

    /// A form byte (0 = clear text), then the value.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        let form = try reader.readByte()
        guard form == 0 else { throw .unknownCode(form, type: "PersonalData form", at: reader.offset - 1) }
        self.init(try Value(from: &reader))
    }
}

extension Secret: PayloadCodable {
    /// Length-prefixed UTF-8 (the log is the system of record; see `docs/domain.md`, "Secrets and personal data").
    public func encode(to writer: inout PayloadWriter) { writer.writeString(revealedForStorage) }
    /// Length-prefixed UTF-8.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self.init(stored: try reader.readString())
    }
}

extension DNSName: PayloadCodable {
    /// Length-prefixed UTF-8.
    public func encode(to writer: inout PayloadWriter) { writer.writeString(value) }
    /// Length-prefixed UTF-8.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self.init(stored: try reader.readString())
    }
}

extension EmailAddress: PayloadCodable {
    /// Length-prefixed UTF-8.
    public func encode(to writer: inout PayloadWriter) { writer.writeString(value) }
    /// Length-prefixed UTF-8.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self.init(stored: try reader.readString())
    }
}

extension PhoneNumber: PayloadCodable {
    /// Length-prefixed UTF-8.
    public func encode(to writer: inout PayloadWriter) { writer.writeString(value) }
    /// Length-prefixed UTF-8.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self.init(stored: try reader.readString())
    }
}

extension SIPAddress: PayloadCodable {
    /// Length-prefixed UTF-8.
    public func encode(to writer: inout PayloadWriter) { writer.writeString(value) }
    /// Length-prefixed UTF-8.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self.init(stored: try reader.readString())
    }
}

extension CountryCode: PayloadCodable {
    /// Length-prefixed UTF-8.
    public func encode(to writer: inout PayloadWriter) { writer.writeString(code) }
    /// Length-prefixed UTF-8.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self.init(stored: try reader.readString())
    }
}
