import CumulusDomain
import CumulusLog
import CumulusProjections
import Foundation

/// The entity sets of the feed (domain.md §11) with their properties and how their rows are read.
public enum EntitySet: String, CaseIterable, Hashable, Sendable {
    /// The user-state report rows.
    case userStates = "UserStates"
    /// Time in state by interval.
    case timeInStateIntervals = "TimeInStateIntervals"
    /// Each user's current user state and presence, since when and for how long.
    case currentStates = "CurrentStates"
    /// Licence counters per tenant and kind.
    case licences = "Licences"
    /// Users.
    case users = "Users"
    /// Services.
    case services = "Services"
    /// Organisation units.
    case organisationUnits = "OrganisationUnits"
    /// Tenants.
    case tenants = "Tenants"

    /// The entity type's name in the `Cumulus` namespace.
    public var typeName: String {
        switch self {
        case .userStates: "UserState"
        case .timeInStateIntervals: "TimeInStateInterval"
        case .currentStates: "CurrentState"
        case .licences: "Licence"
        case .users: "User"
        case .services: "Service"
        case .organisationUnits: "OrganisationUnit"
        case .tenants: "Tenant"
        }
    }

    /// The key property (every type has a single-property key).
    public var key: String {
        switch self {
        case .userStates, .timeInStateIntervals, .licences: "Id"
        case .currentStates, .users: "UserId"
        case .services: "ServiceId"
        case .organisationUnits: "OrganisationUnitId"
        case .tenants: "TenantId"
        }
    }

    /// The properties in order: name, type, nullable.
    public var properties: [(name: String, type: EdmType, nullable: Bool)] {
        switch self {
        case .userStates:
            [
                ("Id", .string, false), ("TenantId", .string, false), ("UserId", .string, false),
                ("UserName", .string, false), ("UserPrincipalName", .string, false),
                ("OrganisationUnitId", .string, false), ("OrganisationUnit", .string, false),
                ("ResponsibilityProfile", .string, true), ("UserState", .string, true),
                ("PresenceAvailability", .string, true), ("PresenceActivity", .string, true),
                ("Start", .dateTimeOffset, false), ("End", .dateTimeOffset, true),
                ("DurationSeconds", .decimal, true),
            ]
        case .timeInStateIntervals:
            [
                ("Id", .string, false), ("TenantId", .string, false), ("UserId", .string, false),
                ("UserName", .string, false), ("Interval", .string, false), ("IntervalStart", .dateTimeOffset, false),
                ("IntervalEnd", .dateTimeOffset, false), ("IntervalStartLocal", .string, false),
                ("TimeZone", .string, false), ("UserState", .string, true), ("PresenceAvailability", .string, true),
                ("Seconds", .decimal, false),
            ]
        case .currentStates:
            [
                ("UserId", .string, false), ("TenantId", .string, false), ("UserName", .string, false),
                ("OrganisationUnit", .string, false), ("UserState", .string, true),
                ("ResponsibilityProfile", .string, true), ("UserStateSince", .dateTimeOffset, true),
                ("UserStateSeconds", .decimal, true), ("PresenceAvailability", .string, true),
                ("PresenceActivity", .string, true), ("PresenceSince", .dateTimeOffset, true),
                ("PresenceSeconds", .decimal, true), ("At", .dateTimeOffset, false),
            ]
        case .licences:
            [
                ("Id", .string, false), ("TenantId", .string, false), ("Tenant", .string, false),
                ("Kind", .string, false), ("Contingent", .int64, false), ("Used", .int64, false),
                ("Available", .int64, false), ("IsOverused", .boolean, false),
            ]
        case .users:
            [
                ("UserId", .string, false), ("TenantId", .string, false), ("UserName", .string, false),
                ("UserPrincipalName", .string, false), ("OrganisationUnitId", .string, false),
                ("OrganisationUnit", .string, false), ("Lifecycle", .string, false), ("ServiceCount", .int64, false),
                ("ServiceIds", .string, false),
            ]
        case .services:
            [
                ("ServiceId", .string, false), ("TenantId", .string, false), ("Name", .string, false),
                ("Type", .string, false), ("OrganisationUnitId", .string, false), ("OrganisationUnit", .string, false),
                ("Lifecycle", .string, false), ("MemberCount", .int64, false), ("RoutableCount", .int64, false),
            ]
        case .organisationUnits:
            [
                ("OrganisationUnitId", .string, false), ("TenantId", .string, false), ("Name", .string, false),
                ("ParentId", .string, true), ("Parent", .string, true), ("Lifecycle", .string, false),
                ("UserCount", .int64, false), ("ServiceCount", .int64, false), ("SubUnitCount", .int64, false),
            ]
        case .tenants:
            [
                ("TenantId", .string, false), ("Name", .string, false), ("CompanyName", .string, false),
                ("CrmId", .string, false), ("State", .string, false), ("Lifecycle", .string, false),
                ("TimeZone", .string, false), ("ShowsTimeInState", .boolean, false),
                ("PersistsUserStatesInReporting", .boolean, false),
            ]
        }
    }

    /// Property name → type, for the filter parser.
    var propertyTypes: [String: EdmType] {
        Dictionary(uniqueKeysWithValues: properties.map { ($0.name, $0.type) })
    }

    /// The instant property a `$filter` range on narrows the rows read (`Start`, `IntervalStart`), if any.
    var rangeProperty: String? {
        switch self {
        case .userStates: "Start"
        case .timeInStateIntervals: "IntervalStart"
        default: nil
        }
    }
}

/// The tenants a reader may see through the feed, each with its partner view.
struct ReadScope {
    var tenants: [(tenant: Tenant, view: PartnerView)]

    /// Who reads the feed (docs/domain.md, *Who sees personal data*): the matrix's "read user-state report" row
    /// (a user supervisor of the tenant; a partnerAdmin, for the tenants of that partner, under the partner view)
    /// and a systemAdmin (every tenant). A reader holding several actors reads each tenant through the one whose
    /// view shows the most. A reader none of whose actors is of those kinds is refused (403); one of those
    /// kinds without a tenant in reach reads empty sets.
    init(readers: [Actor], state: CurrentStateProjection) throws(ODataError) {
        let kinds: Set<ActorKind> = [.systemAdmin, .partnerAdmin, .userSupervisor]
        guard readers.contains(where: { kinds.contains($0.kind) }) else {
            let names = readers.map { "\($0.kind)" }.joined(separator: ", ")
            throw ODataError(
                status: 403, code: "Forbidden",
                message: "\(names.isEmpty ? "a guest" : names) may not read the reporting feed: it needs a user "
                    + "supervisor of the tenant, a partner administrator or a system administrator")
        }
        var tenants: [(tenant: Tenant, view: PartnerView)] = []
        for tenant in state.tenants.values.sorted(by: { $0.id < $1.id }) {
            let scope = PermissionScope(tenant: tenant.id, tenantPartner: tenant.partner)
            let views = readers.filter {
                $0 == .systemAdmin || PermissionTable.allows($0, .readUserStateReport, in: scope)
            }.map { PartnerView(reader: $0, privacy: tenant.dataPrivacy) }
            guard
                let view = views.max(by: {
                    ($0.showsUserIdentifiers ? 2 : 0) + ($0.showsCustomerIdentifiers ? 1 : 0)
                        < ($1.showsUserIdentifiers ? 2 : 0) + ($1.showsCustomerIdentifiers ? 1 : 0)
                })
            else { continue }
            tenants.append((tenant, view))
        }
        self.tenants = tenants
    }
}

extension EntitySet {
    /// Every row the reader may see; `range` narrows the rows read for the sets with a ``rangeProperty``.
    func rows(
        _ snapshot: ODataSnapshot, scope: ReadScope, range: (from: Timestamp?, to: Timestamp?),
        interval: ReportInterval,
        maximumWindowDays: Int,
        maximumIntervalRows: Int,
        maximumUserStateRows: Int
    ) throws(ODataError) -> [ODataRow] {
        let state = snapshot.currentState
        // The rows' repeated texts (ids, names, states) share one copy: a query's rows are kept until its last page.
        var interned = Set<String>()
        func shared(_ value: String) -> ODataValue { .string(interned.insert(value).memberAfterInsert) }
        func text(_ value: String?) -> ODataValue { value.map(shared) ?? .null }
        func ouName(_ id: OUID) -> String { state.organisationUnits[id]?.name ?? "" }
        let index = propertyIndex
        func makeRow(_ values: KeyValuePairs<String, ODataValue>) -> ODataRow { ODataRow(self, values, index: index) }
        var rows: [ODataRow] = []
        var intervalPairs = 0
        var userStateRows = 0
        for (tenant, view) in scope.tenants {
            switch self {
            case .userStates:
                var seen: [String: Int] = [:]
                let reportRows = snapshot.report.rows(tenant: tenant.id, from: range.from, to: range.to)
                userStateRows += reportRows.count
                guard userStateRows <= maximumUserStateRows else {
                    throw .badRequest(
                        "TooManyRows",
                        "UserStates: the query selects \(userStateRows) or more rows; at most "
                            + "\(maximumUserStateRows) at once: narrow the Start range (Start ge … and Start lt …), "
                            + "as Power BI's incremental refresh does, or filter on TenantId", option: "$filter")
                }
                for row in reportRows {
                    let base = "\(row.user)_\(row.start.microsecondsSinceEpoch)"
                    let repeatCount = seen[base, default: 0]
                    seen[base] = repeatCount + 1
                    rows.append(
                        makeRow([
                            "Id": .string(repeatCount == 0 ? base : "\(base)_\(repeatCount)"),
                            "TenantId": shared(row.tenant.description), "UserId": shared(row.user.description),
                            "UserName": shared(view.userIdentifier(row.userName)),
                            "UserPrincipalName": shared(view.userIdentifier(row.userPrincipalName)),
                            "OrganisationUnitId": shared(row.ou.description), "OrganisationUnit": shared(row.ouName),
                            "ResponsibilityProfile": text(row.responsibilityProfile),
                            "UserState": text(row.userState?.name),
                            "PresenceAvailability": text(row.availability?.rawValue),
                            "PresenceActivity": text(row.activity?.rawValue), "Start": .instant(row.start),
                            "End": row.end.map(ODataValue.instant) ?? .null,
                            "DurationSeconds": row.durationSeconds.map(ODataValue.number) ?? .null,
                        ]))
                }
            case .timeInStateIntervals:
                guard snapshot.timeInState.isShown(for: tenant.id) else { continue }
                let zone = TimeZone(identifier: tenant.timeZone) ?? TimeZone(secondsFromGMT: 0) ?? .current
                let to = range.to ?? snapshot.instant
                let from = range.from ?? to.adding(seconds: -86_400)
                guard from < to else { continue }
                guard to.seconds(since: from) <= Double(maximumWindowDays) * 86_400 else {
                    throw .badRequest(
                        "WindowTooLarge",
                        "TimeInStateIntervals: the IntervalStart range spans more than \(maximumWindowDays) days; "
                            + "narrow the $filter (IntervalStart ge … and IntervalStart lt …)", option: "$filter")
                }
                intervalPairs += snapshot.timeInState.intervalCount(
                    tenant: tenant.id, from: from, to: to, until: snapshot.instant, interval: interval, timeZone: zone)
                guard intervalPairs <= maximumIntervalRows else {
                    throw .badRequest(
                        "TooManyRows",
                        "TimeInStateIntervals: the query spans \(intervalPairs) or more (user, interval) pairs, each at "
                            + "least one row; at most \(maximumIntervalRows): narrow the IntervalStart range, filter "
                            + "on TenantId, or ask for a longer interval", option: "$filter")
                }
                for row in snapshot.timeInState.intervals(
                    tenant: tenant.id, from: from, to: to, until: snapshot.instant, interval: interval, timeZone: zone)
                {
                    let id = [
                        row.user.description, interval.rawValue, String(row.intervalStart.microsecondsSinceEpoch),
                        row.userState ?? "", row.availability ?? "",
                    ].joined(separator: "_")
                    rows.append(
                        makeRow([
                            "Id": .string(id), "TenantId": shared(row.tenant.description),
                            "UserId": shared(row.user.description),
                            "UserName": shared(view.userIdentifier(row.userName)),
                            "Interval": shared(interval.rawValue), "IntervalStart": .instant(row.intervalStart),
                            "IntervalEnd": .instant(row.intervalEnd),
                            "IntervalStartLocal": shared(row.intervalStartLocal),
                            "TimeZone": shared(tenant.timeZone), "UserState": text(row.userState),
                            "PresenceAvailability": text(row.availability), "Seconds": .number(row.seconds),
                        ]))
                }
            case .currentStates:
                guard snapshot.timeInState.isShown(for: tenant.id) else { continue }
                for user in snapshot.timeInState.users(in: tenant.id) {
                    guard let shot = snapshot.timeInState.snapshot(of: user, at: snapshot.instant),
                        let record = state.users[user], record.lifecycle == .live
                    else { continue }
                    rows.append(
                        makeRow([
                            "UserId": .string(user.description), "TenantId": .string(tenant.id.description),
                            "UserName": .string(view.userIdentifier(shot.userName)),
                            "OrganisationUnit": .string(ouName(record.ou)),
                            "UserState": text(shot.state.userState?.name),
                            "ResponsibilityProfile": text(shot.state.responsibilityProfile),
                            "UserStateSince": shot.userStateSince.map(ODataValue.instant) ?? .null,
                            "UserStateSeconds": shot.userStateElapsedSeconds.map(ODataValue.number) ?? .null,
                            "PresenceAvailability": text(shot.state.availability?.rawValue),
                            "PresenceActivity": text(shot.state.activity?.rawValue),
                            "PresenceSince": shot.presenceSince.map(ODataValue.instant) ?? .null,
                            "PresenceSeconds": shot.presenceElapsedSeconds.map(ODataValue.number) ?? .null,
                            "At": .instant(snapshot.instant),
                        ]))
                }
            case .licences:
                for counter in snapshot.licences.counters(for: tenant.id) {
                    rows.append(
                        makeRow([
                            "Id": .string("\(tenant.id)_\(counter.kind.rawValue)"),
                            "TenantId": .string(tenant.id.description), "Tenant": .string(tenant.name),
                            "Kind": .string(counter.kind.rawValue), "Contingent": .number(Double(counter.contingent)),
                            "Used": .number(Double(counter.used)), "Available": .number(Double(counter.available)),
                            "IsOverused": .boolean(counter.available < 0),
                        ]))
                }
            case .users:
                for user in state.users(in: tenant.id) {
                    rows.append(
                        makeRow([
                            "UserId": .string(user.id.description), "TenantId": .string(tenant.id.description),
                            "UserName": .string(view.userIdentifier(user.displayName.value)),
                            "UserPrincipalName": .string(view.userIdentifier(user.upn.value)),
                            "OrganisationUnitId": .string(user.ou.description),
                            "OrganisationUnit": .string(ouName(user.ou)),
                            "Lifecycle": .string(user.lifecycle.rawValue),
                            "ServiceCount": .number(Double(user.memberships.count)),
                            "ServiceIds": .string(
                                user.memberships.keys.map(\.description).sorted().joined(separator: " ")),
                        ]))
                }
            case .services:
                for service in state.services(in: tenant.id) {
                    rows.append(
                        makeRow([
                            "ServiceId": .string(service.id.description), "TenantId": .string(tenant.id.description),
                            "Name": .string(service.name), "Type": .string("\(service.type)"),
                            "OrganisationUnitId": .string(service.ou.description),
                            "OrganisationUnit": .string(ouName(service.ou)),
                            "Lifecycle": .string(service.lifecycle.rawValue),
                            "MemberCount": .number(Double(state.members(of: service.id).count)),
                            "RoutableCount": .number(Double(state.routableCount(of: service.id))),
                        ]))
                }
            case .organisationUnits:
                for unit in state.organisationUnits(in: tenant.id) {
                    rows.append(
                        makeRow([
                            "OrganisationUnitId": .string(unit.id.description),
                            "TenantId": .string(tenant.id.description),
                            "Name": .string(unit.name), "ParentId": text(unit.parent?.description),
                            "Parent": text(unit.parent.map(ouName)), "Lifecycle": .string(unit.lifecycle.rawValue),
                            "UserCount": .number(Double(unit.userCount)),
                            "ServiceCount": .number(Double(unit.serviceCount)),
                            "SubUnitCount": .number(Double(unit.subOUCount)),
                        ]))
                }
            case .tenants:
                rows.append(
                    makeRow([
                        "TenantId": .string(tenant.id.description), "Name": .string(tenant.name),
                        "CompanyName": .string(view.customerIdentifier(tenant.companyDetails.companyName)),
                        "CrmId": .string(view.customerIdentifier(tenant.companyDetails.crmID)),
                        "State": .string(tenant.state.rawValue), "Lifecycle": .string(tenant.lifecycle.rawValue),
                        "TimeZone": .string(tenant.timeZone),
                        "ShowsTimeInState": .boolean(tenant.dataPrivacy.showTimeInState),
                        "PersistsUserStatesInReporting": .boolean(tenant.dataPrivacy.persistUserStatesInReporting),
                    ]))
            }
        }
        return rows
    }
}
