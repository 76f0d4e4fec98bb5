/// Something placed directly in an organisation unit.
public enum OUContent: Hashable, Comparable, Sendable, PayloadCodable {
    /// A sub-OU.
    case subOU(OUID)
    /// A service.
    case service(ServiceID)
    /// A user.
    case user(UserID)

    /// A code byte (0 sub-OU, 1 service, 2 user), then 16 bytes of id.
    public func encode(to writer: inout PayloadWriter) {
        switch self {
        case .subOU(let id):
            writer.writeByte(0)
            writer.write(id)
        case .service(let id):
            writer.writeByte(1)
            writer.write(id)
        case .user(let id):
            writer.writeByte(2)
            writer.write(id)
        }
    }

    /// A code byte (0 sub-OU, 1 service, 2 user), then 16 bytes of id.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        switch try reader.readByte() {
        case 0: self = .subOU(try reader.read())
        case 1: self = .service(try reader.read())
        case 2: self = .user(try reader.read())
        case let other: throw .unknownCode(other, type: "OUContent", at: reader.offset - 1)
        }
    }
}
