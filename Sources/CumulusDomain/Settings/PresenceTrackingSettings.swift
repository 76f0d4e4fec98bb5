/// Presence-tracking extension settings (the consent flag is kept apart: the tenant admin grants it).
public struct PresenceTrackingSettings: Hashable, Sendable, PayloadCodable {
    /// Whether extended presence is tracked; enabling requires the permission and an account.
    public var enabled: Bool
    /// The primary guest presence account.
    public var account1: EmailAddress?
    /// The fallback guest presence account.
    public var account2: EmailAddress?

    /// Creates the settings with domain.md's defaults.
    public init(enabled: Bool = false, account1: EmailAddress? = nil, account2: EmailAddress? = nil) {
        self.enabled = enabled
        self.account1 = account1
        self.account2 = account2
    }

    /// Appends the fields in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(enabled)
        writer.write(account1)
        writer.write(account2)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        enabled = try reader.read()
        account1 = try reader.read()
        account2 = try reader.read()
    }
}
