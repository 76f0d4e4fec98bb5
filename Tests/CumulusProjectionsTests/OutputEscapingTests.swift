import CumulusDomain
import CumulusLog
import CumulusProjections
import Foundation
import Testing

/// Issue 14, items 2 and 7: text outputs make control characters visible, and the audit masks personal data for
/// readers who may not see it.
@Suite("Output escaping and audit redaction")
struct OutputEscapingTests {
    static let hostile = "Evil\u{1B}]0;owned\u{07}\r\nnext\u{0}\u{7F}\u{9B}2J"

    func entry(_ entity: AuditedEntity, _ changes: [FieldChange]) -> AuditEntry {
        AuditEntry(
            entity: entity, position: GlobalPosition(3), occurredAt: Timestamp(microsecondsSinceEpoch: 0),
            recordedAt: Timestamp(microsecondsSinceEpoch: 0), actor: "systemAdmin", eventType: "TenantRenamed",
            changes: changes)
    }

    @Test func tablesCSVAndJSONShowNoRawControlCharacter() {
        let table = ReportTable.audit([
            entry(.tenant(TenantID(UUID())), [FieldChange(field: "name", old: "Contoso", new: Self.hostile)])
        ])
        let text = table.textTable()
        let csv = table.csv()
        let json = table.json()
        #expect(text.contains("Evil\\u{1b}]0;owned\\u{7}\\u{d}\\u{a}next\\u{0}\\u{7f}\\u{9b}2J"))
        #expect(csv.contains("Evil\\u{1b}]0;owned\\u{7}\\u{d}\\u{a}next\\u{0}\\u{7f}\\u{9b}2J"))
        #expect(json.contains("Evil\\u001b]0;owned\\u0007\\r\\nnext\\u0000\\u007f\\u009b2J"))
        for output in [text, csv, json] {
            // Only the outputs' own line ends remain: no NUL, ESC, BEL, DEL, C1, and no CR or LF inside a record.
            let lines = output.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
            #expect(lines.allSatisfy { !$0.unicodeScalars.contains(where: VisibleText.isControl) }, "\(output)")
        }
    }

    @Test func theAuditMasksUserIdentifiersAndTheTechnicalContactPerReader() {
        let tenant = TenantID(UUID())
        let user = UserID(UUID())
        let userEntry = entry(
            .user(user),
            [
                FieldChange(field: "upn", old: nil, new: "anna@contoso.com"),
                FieldChange(field: "displayName", old: "Anna", new: "Anna Muster"),
                FieldChange(field: "ou", old: nil, new: "ou-1"),
            ])
        let tenantEntry = entry(
            .tenant(tenant),
            [
                FieldChange(field: "technicalContact.email", old: "", new: "anna@contoso.com"),
                FieldChange(field: "name", old: "A", new: "B"),
            ])
        let closed = DataPrivacySettings()
        var open = DataPrivacySettings()
        open.allowPartnerSeeUserIdentifiers = true
        open.allowPartnerSeeCustomerIdentifiers = true
        let partner = Actor.partnerAdmin(PartnerID(UUID()))
        let masked = PartnerView(reader: partner, privacy: closed).apply(to: userEntry)
        #expect(masked.changes.map(\.new) == ["****************", "***********", "ou-1"])
        #expect(masked.changes[1].old == "****")
        #expect(PartnerView(reader: partner, privacy: open).apply(to: userEntry) == userEntry)
        #expect(PartnerView(reader: .ouAdmin(tenant, OUID(UUID())), privacy: closed).apply(to: userEntry) == userEntry)
        for reader in [partner, Actor.ouAdmin(tenant, OUID(UUID())), Actor.userSupervisor(tenant)] {
            let contact = PartnerView(reader: reader, privacy: closed).apply(to: tenantEntry)
            #expect(contact.changes.map(\.new) == ["****************", "B"])
        }
        for reader in [Actor.systemAdmin, Actor.tenantAdmin(tenant)] {
            #expect(PartnerView(reader: reader, privacy: closed).apply(to: tenantEntry) == tenantEntry)
        }
        #expect(PartnerView(reader: partner, privacy: open).apply(to: tenantEntry) == tenantEntry)
    }
}
