public import CumulusDomain

/// What a reader may see of personal identifiers (domain.md §9, partner view).
///
/// A partnerAdmin sees user names and UPNs as `*` placeholders of the same length unless the tenant's
/// `allowPartnerSeeUserIdentifiers` is on, and customer identifiers likewise unless
/// `allowPartnerSeeCustomerIdentifiers` is on. Every other reader sees them in clear.
public struct PartnerView: Hashable, Sendable {
    /// Whether user names and UPNs are shown.
    public var showsUserIdentifiers: Bool
    /// Whether customer identifiers (callers' numbers and addresses) are shown.
    public var showsCustomerIdentifiers: Bool

    /// The view of `reader` on a tenant with `privacy` settings.
    public init(reader: Actor, privacy: DataPrivacySettings) {
        let isPartner = reader.kind == .partnerAdmin
        showsUserIdentifiers = !isPartner || privacy.allowPartnerSeeUserIdentifiers
        showsCustomerIdentifiers = !isPartner || privacy.allowPartnerSeeCustomerIdentifiers
    }

    /// `*` repeated once per character of `text`.
    public static func placeholder(for text: String) -> String { String(repeating: "*", count: text.count) }

    /// A user name or UPN as this view shows it.
    public func userIdentifier(_ text: String) -> String {
        showsUserIdentifiers ? text : Self.placeholder(for: text)
    }

    /// A customer identifier as this view shows it.
    public func customerIdentifier(_ text: String) -> String {
        showsCustomerIdentifiers ? text : Self.placeholder(for: text)
    }

    /// The row with the user name and UPN masked when this view hides user identifiers.
    public func apply(to row: UserStateReportRow) -> UserStateReportRow {
        guard !showsUserIdentifiers else { return row }
        var masked = row
        masked.userName = Self.placeholder(for: row.userName)
        masked.userPrincipalName = Self.placeholder(for: row.userPrincipalName)
        return masked
    }

    /// The summary with the user name and UPN masked when this view hides user identifiers.
    public func apply(to summary: TimeInStateSummary) -> TimeInStateSummary {
        guard !showsUserIdentifiers else { return summary }
        var masked = summary
        masked.userName = Self.placeholder(for: summary.userName)
        masked.userPrincipalName = Self.placeholder(for: summary.userPrincipalName)
        return masked
    }

    /// The interval row with the user name and UPN masked when this view hides user identifiers.
    public func apply(to row: TimeInStateIntervalRow) -> TimeInStateIntervalRow {
        guard !showsUserIdentifiers else { return row }
        var masked = row
        masked.userName = Self.placeholder(for: row.userName)
        masked.userPrincipalName = Self.placeholder(for: row.userPrincipalName)
        return masked
    }
}
