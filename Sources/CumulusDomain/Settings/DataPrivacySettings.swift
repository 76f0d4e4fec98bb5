/// Data-privacy settings of a tenant; all default to `false` (domain.md §3).
public struct DataPrivacySettings: Hashable, Sendable, PayloadCodable {
    /// Whether a partner admin sees user names and UPNs in clear.
    public var allowPartnerSeeUserIdentifiers: Bool
    /// Whether a partner admin sees calling-customer identifiers in clear.
    public var allowPartnerSeeCustomerIdentifiers: Bool
    /// Whether user-state report rows are generated.
    public var persistUserStatesInReporting: Bool
    /// Whether time-in-state can be read.
    public var showTimeInState: Bool

    /// Creates the settings; the defaults are all `false`.
    public init(
        allowPartnerSeeUserIdentifiers: Bool = false, allowPartnerSeeCustomerIdentifiers: Bool = false,
        persistUserStatesInReporting: Bool = false, showTimeInState: Bool = false
    ) {
        self.allowPartnerSeeUserIdentifiers = allowPartnerSeeUserIdentifiers
        self.allowPartnerSeeCustomerIdentifiers = allowPartnerSeeCustomerIdentifiers
        self.persistUserStatesInReporting = persistUserStatesInReporting
        self.showTimeInState = showTimeInState
    }

    /// Four bytes in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.writeBool(allowPartnerSeeUserIdentifiers)
        writer.writeBool(allowPartnerSeeCustomerIdentifiers)
        writer.writeBool(persistUserStatesInReporting)
        writer.writeBool(showTimeInState)
    }

    /// Four bytes in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        allowPartnerSeeUserIdentifiers = try reader.readBool()
        allowPartnerSeeCustomerIdentifiers = try reader.readBool()
        persistUserStatesInReporting = try reader.readBool()
        showTimeInState = try reader.readBool()
    }
}
