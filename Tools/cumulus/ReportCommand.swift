import ArgumentParser
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusProjections
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Licence counters, the user-state report or time in state, as a table, CSV, JSON or an SVG chart.",
        discussion: """
            licences: per tenant and kind, contingent, used, available (negative = overage); systemAdmin, the tenant's
            partnerAdmin or tenantAdmin.
            user-states: rows of (tenant, user, name, OU, responsibility profile, user state, presence, start, end,
            duration); needs --actor userSupervisor:<tenant> or the tenant's partnerAdmin (names masked unless allowed).
            time-in-state: seconds per user state and per presence availability in [--from, --to); same readers; refused
            while the tenant's showTimeInState is off. --format svg (or html) draws a stacked bar per user.
            With --interval 15m|30m|1h|1d: one row per user, interval, user state and availability, intervals aligned
            to the tenant's time zone (changeTimeZone; default UTC), the window widened to whole intervals.
            current-states: per user, the user state and presence at --valid-at (else --to, the as-of time or now),
            since when, and the seconds elapsed; the time-in-state readers and switch apply.
            Windows (--from, --to) and --valid-at are occurredAt time (when things happened at the source); --as-of is
            what the log had recorded by a position or time. An open row has no end and no duration.
            CSV follows RFC 4180 with a header row. Times are UTC.
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case licences
        case userStates = "user-states"
        case timeInState = "time-in-state"
        case currentStates = "current-states"
    }

    @OptionGroup var data: DataDirectoryOptions
    @OptionGroup var read: ReadOptions

    @Argument(help: "licences, user-states, time-in-state or current-states.")
    var kind: Kind

    @Option(help: "The tenant (required except for licences read by a systemAdmin).")
    var tenant: String?

    @Option(help: "Only this user.")
    var user: String?

    @Option(help: "Start of the window (ISO 8601); time in state defaults to 7 days before --to.")
    var from: String?

    @Option(help: "End of the window, exclusive (ISO 8601); defaults to the as-of time or now.")
    var to: String?

    @Option(help: "time-in-state only: split into intervals of 15m, 30m, 1h or 1d in the tenant's time zone.")
    var interval: String?

    @Option(help: "table, csv, json, svg or html.")
    var format: OutputFormat = .table

    func run() async throws {
        try await reporting {
            let interval = try interval.map { text -> ReportInterval in
                guard let value = ReportInterval(rawValue: text) else {
                    throw CommandFailure("--interval '\(text)' is not one of 15m, 30m, 1h, 1d")
                }
                return value
            }
            if interval != nil && kind != .timeInState {
                throw CommandFailure("--interval is only for time-in-state")
            }
            let charts = kind == .timeInState && interval == nil
            try format.check(
                allowed: charts ? OutputFormat.allCases : OutputFormat.tabular,
                for: interval != nil ? "time-in-state --interval" : kind.rawValue)
            let reader = try read.reader()
            let tenantID = try tenant.map { text -> TenantID in
                guard let id = TenantID(string: text) else { throw CommandFailure("--tenant '\(text)' is not an id") }
                return id
            }
            let userID = try user.map { text -> UserID in
                guard let id = UserID(string: text) else { throw CommandFailure("--user '\(text)' is not an id") }
                return id
            }
            let end = try to.map(Self.instant) ?? read.instant()
            let start = try from.map(Self.instant)
            if let start, start >= end { throw CommandFailure("--from must be before --to") }
            // Only what this report reads: the tenant (current state) when one is named, and the report's own view.
            var projections: [any Projection] = tenantID == nil ? [] : [CurrentStateProjection()]
            switch kind {
            case .licences: projections.append(LicenceCountersProjection())
            case .userStates: projections.append(UserStateReportProjection())
            case .timeInState, .currentStates: projections.append(TimeInStateProjection())
            }
            let (store, set) = try await read.load(data, projections)
            defer { store.close() }
            let tenantState = try tenantID.map { id -> Tenant in
                guard let found = set.projection(CurrentStateProjection.self)?.tenants[id] else {
                    throw CommandFailure("no tenant with id '\(id)'")
                }
                return found
            }
            switch kind {
            case .licences:
                guard let counters = set.projection(LicenceCountersProjection.self) else {
                    throw CommandFailure("no counters")
                }
                if let tenantState {
                    _ = try ReadAccess.checkAdministrativeRead(reader, tenant: tenantState)
                    format.emit(ReportTable.licences(counters.counters(for: tenantState.id)), title: "licences")
                } else {
                    guard case .systemAdmin = reader else { throw CommandFailure("--tenant is required for \(reader)") }
                    format.emit(ReportTable.licences(counters.allCounters()), title: "licences")
                }
            case .userStates:
                guard let tenantState else { throw CommandFailure("--tenant is required for the user-state report") }
                let view = try ReadAccess.checkUserStateRead(reader, tenant: tenantState)
                guard let report = set.projection(UserStateReportProjection.self) else {
                    throw CommandFailure("no report")
                }
                let rows = report.rows(tenant: tenantState.id, user: userID, from: start, to: end)
                    .map(view.apply(to:))
                format.emit(ReportTable.userStates(rows), title: "user states")
            case .currentStates:
                guard let tenantState else { throw CommandFailure("--tenant is required for current states") }
                let (times, view) = try timeInState(set, tenant: tenantState, reader: reader)
                let users = userID.map { [$0] } ?? times.users(in: tenantState.id)
                // --valid-at: what was true then (occurredAt); otherwise at --to, the as-of time or now.
                let instant = try read.validInstant() ?? end
                let snapshots = users.compactMap { times.snapshot(of: $0, at: instant) }
                format.emit(ReportTable.currentStates(snapshots, view: view), title: "current states")
            case .timeInState:
                guard let tenantState else { throw CommandFailure("--tenant is required for time in state") }
                let (times, view) = try timeInState(set, tenant: tenantState, reader: reader)
                let windowStart = start ?? end.adding(seconds: -7 * 86_400)
                if let interval {
                    guard let zone = TimeZone(identifier: tenantState.timeZone) else {
                        throw CommandFailure("tenant time zone '\(tenantState.timeZone)' is unknown to this system")
                    }
                    let rows = times.intervals(
                        tenant: tenantState.id, user: userID, from: windowStart, to: end,
                        until: min(end, try read.instant()), interval: interval, timeZone: zone
                    ).map(view.apply(to:))
                    format.emit(ReportTable.timeInStateIntervals(rows), title: "time in state by interval")
                    return
                }
                let summaries = times.summaries(
                    tenant: tenantState.id, user: userID, from: windowStart, to: end,
                    until: min(end, try read.instant())
                )
                .map(view.apply(to:))
                switch format {
                case .svg, .html:
                    let chart = TimeInStateChart(
                        summaries: summaries, dimension: .both,
                        title: "Time in state, \(tenantState.name)")
                    print(format == .html ? chart.html() : chart.svg(), terminator: "")
                default:
                    format.emit(ReportTable.timeInState(summaries), title: "time in state")
                }
            }
        }
    }

    /// The time-in-state view of `tenant`, once the reader may see it and the tenant's switch is on.
    private func timeInState(
        _ set: ProjectionSet,
        tenant: Tenant,
        reader: Actor
    ) throws -> (TimeInStateProjection, PartnerView) {
        let view = try ReadAccess.checkUserStateRead(reader, tenant: tenant)
        guard let times = set.projection(TimeInStateProjection.self) else { throw CommandFailure("no view") }
        do throws(TimeInStateNotShown) {
            try times.checkShown(for: tenant.id)
        } catch {
            throw CommandFailure(error.description)
        }
        return (times, view)
    }

    static func instant(_ text: String) throws -> Timestamp {
        guard let time = Timestamp(iso8601: text) else {
            throw CommandFailure("'\(text)' is not an ISO 8601 time such as 2026-11-20T08:00:00Z")
        }
        return time
    }
}
