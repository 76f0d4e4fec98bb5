public import Foundation

/// Interact extension settings (the widget key is kept apart: it is refreshed on its own).
public struct InteractSettings: Hashable, Sendable, PayloadCodable {
    /// Allowed range of ``sessionRecoveryTimeoutSeconds``.
    public static let sessionRecoveryTimeoutRange = 5...60
    /// Whether Interact calls reach agents; enabling requires ``acsConnectionString``.
    public var enabled: Bool
    /// The ACS connection string (secret).
    public var acsConnectionString: Secret?
    /// The user on whose behalf backend meetings are created.
    public var o365UserID: UUID?
    /// Seconds before a closed session ends for good; default 20.
    public var sessionRecoveryTimeoutSeconds: Int
    /// Token verification; default `none`.
    public var authorization: InteractAuthorization

    /// Creates the settings with domain.md's defaults.
    public init(
        enabled: Bool = false, acsConnectionString: Secret? = nil, o365UserID: UUID? = nil,
        sessionRecoveryTimeoutSeconds: Int = 20, authorization: InteractAuthorization = .none
    ) {
        self.enabled = enabled
        self.acsConnectionString = acsConnectionString
        self.o365UserID = o365UserID
        self.sessionRecoveryTimeoutSeconds = sessionRecoveryTimeoutSeconds
        self.authorization = authorization
    }

    /// Appends the fields in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(enabled)
        writer.write(acsConnectionString)
        writer.write(o365UserID)
        writer.write(sessionRecoveryTimeoutSeconds)
        writer.write(authorization)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        enabled = try reader.read()
        acsConnectionString = try reader.read()
        o365UserID = try reader.read()
        sessionRecoveryTimeoutSeconds = try reader.read()
        authorization = try reader.read()
    }
}
