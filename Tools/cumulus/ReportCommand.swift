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
            current-states: per user, the user state and presence at --to (the as-of time or now), since when, and the
            seconds elapsed; the time-in-state readers and switch apply.
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

    @Option(help: "table, csv, json, svg or html.")
    var format: OutputFormat = .table

    func run() async throws {
        try await reporting {
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
            let store = try await data.openStore()
            defer { store.close() }
            let (set, _) = try await ProjectionLoader.load(store, asOf: try read.point())
            guard let current = set.projection(CurrentStateProjection.self) else { throw CommandFailure("no state") }
            let tenantState = try tenantID.map { id -> Tenant in
                guard let found = current.tenants[id] else { throw CommandFailure("no tenant with id '\(id)'") }
                return found
            }
            switch kind {
            case .licences:
                guard let counters = set.projection(LicenceCountersProjection.self) else {
                    throw CommandFailure("no counters")
                }
                if let tenantState {
                    _ = try ReadAccess.checkAdministrativeRead(reader, tenant: tenantState)
                    print(
                        format.render(ReportTable.licences(counters.counters(for: tenantState.id)), title: "licences"))
                } else {
                    guard case .systemAdmin = reader else { throw CommandFailure("--tenant is required for \(reader)") }
                    print(format.render(ReportTable.licences(counters.allCounters()), title: "licences"))
                }
            case .userStates:
                guard let tenantState else { throw CommandFailure("--tenant is required for the user-state report") }
                let view = try ReadAccess.checkUserStateRead(reader, tenant: tenantState)
                guard let report = set.projection(UserStateReportProjection.self) else {
                    throw CommandFailure("no report")
                }
                let rows = report.rows(tenant: tenantState.id, user: userID, from: start, to: end, openRowsUntil: end)
                    .map(view.apply(to:))
                print(format.render(ReportTable.userStates(rows), title: "user states"))
            case .currentStates:
                guard let tenantState else { throw CommandFailure("--tenant is required for current states") }
                let (times, view) = try timeInState(set, tenant: tenantState, reader: reader)
                let users = userID.map { [$0] } ?? times.users(in: tenantState.id)
                let snapshots = users.compactMap { times.snapshot(of: $0, at: end) }
                print(format.render(Self.currentStates(snapshots, view: view), title: "current states"))
            case .timeInState:
                guard let tenantState else { throw CommandFailure("--tenant is required for time in state") }
                let (times, view) = try timeInState(set, tenant: tenantState, reader: reader)
                let windowStart = start ?? end.adding(seconds: -7 * 86_400)
                let summaries = times.summaries(tenant: tenantState.id, user: userID, from: windowStart, to: end)
                    .map(view.apply(to:))
                switch format {
                case .svg, .html:
                    let chart = TimeInStateChart(
                        summaries: summaries,
                        title: "Time in state, \(tenantState.name)"
                    ).svg()
                    print(format == .html ? "<!DOCTYPE html>\n<html><body>\n\(chart)\n</body></html>" : chart)
                default:
                    print(format.render(ReportTable.timeInState(summaries), title: "time in state"))
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

    /// Per user: state and presence at the instant, since when, and seconds elapsed.
    static func currentStates(_ snapshots: [TimeInStateSnapshot], view: PartnerView) -> ReportTable {
        func text(_ value: String?) -> ReportCell { value.map { .text($0) } ?? .empty }
        func seconds(_ value: Double?) -> ReportCell { value.map { .decimal($0) } ?? .empty }
        let rows = snapshots.sorted { $0.userName < $1.userName }.map { snapshot -> [ReportCell] in
            [
                .text(snapshot.user.description), .text(view.userIdentifier(snapshot.userName)),
                text(snapshot.state.userState?.description), text(snapshot.state.responsibilityProfile),
                text(snapshot.userStateSince?.iso8601), seconds(snapshot.userStateElapsedSeconds),
                text(snapshot.state.availability?.rawValue), text(snapshot.state.activity?.rawValue),
                text(snapshot.presenceSince?.iso8601), seconds(snapshot.presenceElapsedSeconds),
                .text(snapshot.instant.iso8601),
            ]
        }
        return ReportTable(
            columns: [
                "userId", "userName", "userState", "responsibilityProfile", "userStateSince", "userStateSeconds",
                "presenceAvailability", "presenceActivity", "presenceSince", "presenceSeconds", "at",
            ],
            rows: rows)
    }

    static func instant(_ text: String) throws -> Timestamp {
        guard let time = Timestamp(iso8601: text) else {
            throw CommandFailure("'\(text)' is not an ISO 8601 time such as 2026-11-20T08:00:00Z")
        }
        return time
    }
}
