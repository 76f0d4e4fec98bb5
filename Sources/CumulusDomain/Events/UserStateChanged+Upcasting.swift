/// Reads every ``UserStateChanged`` schema version ever written.
///
/// - v1 (first release): `user`, `state` — no responsibility profile.
/// - v2 (current): `user`, `state`, `responsibilityProfile` (optional).
extension UserStateChanged {
    /// Reads v1 or v2; a v1 payload becomes a v2 event without a responsibility profile.
    public static func decode(
        schemaVersion: UInt16, from reader: inout PayloadReader
    ) throws(PayloadDecodingError)
        -> UserStateChanged
    {
        switch schemaVersion {
        case 1: return try UserStateChangedV1(from: &reader).upcast()
        case 2: return try UserStateChanged(from: &reader)
        default: throw .unsupportedSchemaVersion(type: typeName, version: schemaVersion)
        }
    }
}

/// The v1 shape of ``UserStateChanged``, kept only to read old payloads (and to write test fixtures).
public struct UserStateChangedV1: Hashable, Sendable, PayloadCodable {
    /// The user.
    public var user: UserID
    /// The state.
    public var state: UserStateName

    /// Creates a v1 payload.
    public init(user: UserID, state: UserStateName) {
        self.user = user
        self.state = state
    }

    /// v1 field order: user, state.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(user)
        writer.write(state)
    }

    /// v1 field order: user, state.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        user = try reader.read()
        state = try reader.read()
    }

    /// The v2 event: no responsibility profile was known in v1.
    public func upcast() -> UserStateChanged {
        UserStateChanged(user: user, state: state, responsibilityProfile: nil)
    }
}
