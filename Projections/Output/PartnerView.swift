public import CumulusDomain

/// What a reader may see of personal data (domain.md §9, partner view; the matrix is in docs/domain.md,
/// *Who sees personal data*).
///
/// A partnerAdmin sees user names and UPNs as `*` placeholders of the same length unless the tenant's
/// `allowPartnerSeeUserIdentifiers` is on, and customer identifiers — callers' numbers and addresses, and the
/// tenant's technical contact (a person at the customer) — likewise unless `allowPartnerSeeCustomerIdentifiers`
/// is on. The technical contact is shown in clear only to the platform (`systemAdmin`) and the tenant's own
/// `tenantAdmin`; an `ouAdmin` or any other reader sees placeholders. User names and UPNs are shown to every
/// reader that may read them otherwise.
public struct PartnerView: Hashable, Sendable {
    /// Whether user names and UPNs are shown.
    public var showsUserIdentifiers: Bool
    /// Whether customer identifiers (callers' numbers and addresses) are shown.
    public var showsCustomerIdentifiers: Bool
    /// Whether the tenant's technical contact (name, e-mail, phone, SIP address) is shown.
    public var showsTechnicalContact: Bool

    /// The view of `reader` on a tenant with `privacy` settings.
    public init(reader: Actor, privacy: DataPrivacySettings) {
        let isPartner = reader.kind == .partnerAdmin
        showsUserIdentifiers = !isPartner || privacy.allowPartnerSeeUserIdentifiers
        showsCustomerIdentifiers = !isPartner || privacy.allowPartnerSeeCustomerIdentifiers
        switch reader.kind {
        case .systemAdmin, .tenantAdmin: showsTechnicalContact = true
        case .partnerAdmin: showsTechnicalContact = privacy.allowPartnerSeeCustomerIdentifiers
        default: showsTechnicalContact = false
        }
    }

    /// A technical-contact field as this view shows it.
    public func technicalContact(_ text: String) -> String {
        showsTechnicalContact ? text : Self.placeholder(for: text)
    }

    /// The audit entry with personal data masked as this view requires: a user's `upn` and `displayName`, and a
    /// tenant's `technicalContact.*` fields (old and new values alike).
    public func apply(to entry: AuditEntry) -> AuditEntry {
        let mask: (String) -> String
        let personal: (String) -> Bool
        switch entry.entity {
        case .user:
            guard !showsUserIdentifiers else { return entry }
            mask = Self.placeholder(for:)
            personal = { $0 == "upn" || $0 == "displayName" }
        case .tenant:
            guard !showsTechnicalContact else { return entry }
            mask = Self.placeholder(for:)
            personal = { $0.hasPrefix("technicalContact.") }
        case .organisationUnit, .service:
            return entry
        }
        var masked = entry
        masked.changes = entry.changes.map { change in
            guard personal(change.field) else { return change }
            return FieldChange(field: change.field, old: change.old.map(mask), new: change.new.map(mask))
        }
        return masked
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
