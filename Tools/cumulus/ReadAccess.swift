import CumulusDomain
import CumulusProjections

/// Who may read which view (domain.md §1 and §9), checked before anything is shown.
///
/// - user-state report and time in state: the tenant's `userSupervisor`, or a `partnerAdmin` of the tenant's
///   partner, who sees user names and UPNs as `*` unless the tenant allows identifiers (the matrix's
///   "read user-state report" row); time in state is refused while the tenant's switch is off;
/// - current state, audit and licence counters (silent in domain.md, decided here): `systemAdmin`; a
///   `partnerAdmin` of the tenant's partner (identifiers masked as above); the tenant's `tenantAdmin`;
///   an `ouAdmin` of the tenant. Other actors (team roles, feeds, guests) read none of it.
enum ReadAccess {
    /// - Returns: the partner view to apply to identifiers (showing everything for non-partners).
    static func checkAdministrativeRead(_ reader: Actor, tenant: Tenant?) throws -> PartnerView {
        let privacy = tenant?.dataPrivacy ?? DataPrivacySettings()
        switch reader {
        case .systemAdmin:
            return PartnerView(reader: reader, privacy: privacy)
        case .partnerAdmin(let partner) where tenant.map { $0.partner == partner } ?? false:
            return PartnerView(reader: reader, privacy: privacy)
        case .tenantAdmin(let id) where tenant?.id == id:
            return PartnerView(reader: reader, privacy: privacy)
        case .ouAdmin(let id, _) where tenant?.id == id:
            return PartnerView(reader: reader, privacy: privacy)
        default:
            throw CommandFailure(
                "permission denied: \(reader) may not read this (rule: systemAdmin, partnerAdmin of the tenant's "
                    + "partner, tenantAdmin or ouAdmin of the tenant)")
        }
    }

    /// The matrix's "read user-state report" row, for the user-state report and time in state.
    static func checkUserStateRead(_ reader: Actor, tenant: Tenant) throws -> PartnerView {
        do {
            try PermissionTable.check(
                reader, .readUserStateReport, in: PermissionScope(tenant: tenant.id, tenantPartner: tenant.partner))
        } catch {
            throw CommandFailure(error.description)
        }
        return PartnerView(reader: reader, privacy: tenant.dataPrivacy)
    }
}
