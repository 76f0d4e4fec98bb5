import CumulusDomain
import CumulusLog
import CumulusProjections
import Foundation
import HTTPTypes
import Hummingbird

/// The report kinds of `GET /v1/reports/{kind}` (the CLI's `cumulus report`).
enum ReportKind: String, CaseIterable, Sendable {
    case licences
    case userStates = "user-states"
    case timeInState = "time-in-state"
    case currentStates = "current-states"
}

extension CumulusServer {
    /// `GET /v1/reports/licences|user-states|time-in-state|current-states?tenant=&user=&from=&to=&asOf=&limit=&offset=`,
    /// JSON (default) or CSV (`Accept: text/csv`), paged by rows; time in state also by `interval=15m|30m|1h|1d`
    /// (the rows of `cumulus report time-in-state --interval`).
    ///
    /// Readers as the CLI's: licences — the administrative readers of the tenant (systemAdmin without a tenant:
    /// all); the others — the matrix's "read user-state report" row (userSupervisor; partnerAdmin, names masked
    /// unless allowed); time in state and current states are refused while the tenant's switch is off.
    func addReportRoutes(to router: Router<ServerContext>) {
        for kind in ReportKind.allCases {
            router.get("v1/reports/\(kind.rawValue)") { request, _ in
                let caller = try await authenticate(request)
                return try await report(kind, request: request, caller: caller)
            }
        }
    }

    private func report(_ kind: ReportKind, request: Request, caller: Caller) async throws(Problem) -> Response {
        let parameters = request.uri.queryParameters
        let limit = try Self.integer(parameters.get("limit"), name: "limit", default: 1000, range: 1...100_000)
        let offset = try Self.integer(parameters.get("offset"), name: "offset", default: 0, range: 0...Int.max)
        var tenantID: TenantID?
        if let text = parameters.get("tenant") {
            guard let id = TenantID(string: text) else { throw Problem.badParameter("tenant", "tenant must be a UUID") }
            tenantID = id
        }
        var userID: UserID?
        if let text = parameters.get("user") {
            guard let id = UserID(string: text) else { throw Problem.badParameter("user", "user must be a UUID") }
            userID = id
        }
        let asOf = try await asOf(request)
        func instant(_ name: String) throws(Problem) -> Timestamp? {
            guard let text = parameters.get(name) else { return nil }
            guard let time = Timestamp(iso8601: text) else {
                throw Problem.badParameter(name, "\(name) must be an ISO 8601 time such as 2026-11-20T08:00:00Z")
            }
            return time
        }
        var defaultEnd = Timestamp.now
        if case .recordedAt(let time) = asOf { defaultEnd = time }
        let end = try instant("to") ?? defaultEnd
        let start = try instant("from")
        if let start, start >= end { throw Problem.badParameter("from", "from must be before to") }
        var chosenInterval: ReportInterval?
        if let text = parameters.get("interval") {
            guard let value = ReportInterval(rawValue: text) else {
                throw Problem.badParameter("interval", "interval must be one of 15m, 30m, 1h, 1d")
            }
            guard kind == .timeInState else {
                throw Problem.badParameter("interval", "interval is only for time-in-state")
            }
            chosenInterval = value
        }
        let interval = chosenInterval
        let maximumWindowDays = configuration.limits.maximumIntervalWindowDays
        let maximumIntervalRows = configuration.limits.maximumIntervalRows
        if interval != nil, let start, end.seconds(since: start) > Double(maximumWindowDays) * 86_400 {
            throw Problem.badParameter(
                "from",
                "time in state by interval spans at most \(maximumWindowDays) days from `from` to `to` "
                    + "(limits.maximumIntervalWindowDays); ask for a narrower window, or for several")
        }
        let tenantFilter = tenantID
        let user = userID
        let asOfInstant = defaultEnd
        // Reports whose rows can be many are cut to the page before their cells are written (`PagedReport.page`);
        // the small ones (licences, summaries, current states) are written whole and cut below.
        let paged = try await withSet(asOf: asOf) { (set) throws(Problem) -> PagedReport in
            guard let current = set.projection(CurrentStateProjection.self) else { throw Self.storageProblem() }
            var tenant: Tenant?
            if let tenantFilter {
                guard let found = current.tenants[tenantFilter] else {
                    throw Problem.notFound("no tenant with id '\(tenantFilter)'")
                }
                tenant = found
            }
            switch kind {
            case .licences:
                guard let counters = set.projection(LicenceCountersProjection.self) else { throw Self.storageProblem() }
                guard let tenant else {
                    guard caller.actors.contains(.systemAdmin) else {
                        throw Problem.badParameter("tenant", "tenant is required unless the caller is a systemAdmin")
                    }
                    return PagedReport(ReportTable.licences(counters.allCounters()))
                }
                guard Self.administrativeView(caller, tenant: tenant, audit: false) != nil else {
                    throw Self.readForbidden(caller)
                }
                return PagedReport(ReportTable.licences(counters.counters(for: tenant.id)))
            case .userStates:
                guard let tenant else { throw Problem.badParameter("tenant", "tenant is required for this report") }
                let view = try Self.userStateView(caller, tenant: tenant)
                guard let report = set.projection(UserStateReportProjection.self) else { throw Self.storageProblem() }
                let rows = report.rows(tenant: tenant.id, user: user, from: start, to: end)
                let page = rows.dropFirst(offset).prefix(limit).map(view.apply(to:))
                return PagedReport(page: ReportTable.userStates(page), total: rows.count)
            case .timeInState, .currentStates:
                guard let tenant else { throw Problem.badParameter("tenant", "tenant is required for this report") }
                let view = try Self.userStateView(caller, tenant: tenant)
                guard let times = set.projection(TimeInStateProjection.self) else { throw Self.storageProblem() }
                do throws(TimeInStateNotShown) {
                    try times.checkShown(for: tenant.id)
                } catch {
                    throw Problem(
                        .forbidden, kind: "time-in-state-hidden", title: "Time in state is not shown",
                        detail: error.description)
                }
                if kind == .timeInState {
                    let windowStart = start ?? end.adding(seconds: -7 * 86_400)
                    let until = min(end, asOfInstant)  // no time counted after the as-of instant or now
                    if let interval {
                        guard let zone = TimeZone(identifier: tenant.timeZone) else {
                            throw Problem.badParameter(
                                "tenant", "the tenant's time zone '\(tenant.timeZone)' is unknown to this system")
                        }
                        let pairs = times.intervalCount(
                            tenant: tenant.id, user: user, from: windowStart, to: end, until: until,
                            interval: interval, timeZone: zone)
                        guard pairs <= maximumIntervalRows else {
                            throw Problem.badParameter(
                                "interval",
                                "the window spans \(pairs) (user, interval) pairs, each at least one row; at most "
                                    + "\(maximumIntervalRows) (limits.maximumIntervalRows): narrow the window, pick a "
                                    + "user, or ask for a longer interval")
                        }
                        // One user's rows at a time, only the page's kept: memory is a user's rows and a page.
                        var total = 0
                        var page: [TimeInStateIntervalRow] = []
                        let (sum, overflow) = offset.addingReportingOverflow(limit)
                        let pageEnd = overflow ? Int.max : sum
                        for id in user.map({ [$0] }) ?? times.users(in: tenant.id) {
                            let rows = times.intervals(
                                tenant: tenant.id, user: id, from: windowStart, to: end,
                                until: until, interval: interval, timeZone: zone)
                            let first = min(max(offset - total, 0), rows.count)
                            let last = min(max(pageEnd - total, 0), rows.count)
                            page += rows[first..<last].map(view.apply(to:))
                            total += rows.count
                        }
                        return PagedReport(page: ReportTable.timeInStateIntervals(page), total: total)
                    }
                    let summaries = times.summaries(
                        tenant: tenant.id, user: user, from: windowStart, to: end, until: until)
                    return PagedReport(ReportTable.timeInState(summaries.map(view.apply(to:))))
                }
                let users = user.map { [$0] } ?? times.users(in: tenant.id)
                return PagedReport(
                    ReportTable.currentStates(users.compactMap { times.snapshot(of: $0, at: end) }, view: view))
            }
        }
        let page = paged.page(offset: offset, limit: limit)
        let total = paged.total
        let next = offset + page.rows.count < total ? String(offset + page.rows.count) : "null"
        if (request.headers[.accept] ?? "").contains("text/csv") {
            var response = Self.json(.ok, page.csv(), contentType: "text/csv; charset=utf-8")
            response.headers[HTTPField.Name("X-Total-Count") ?? .contentLocation] = String(total)
            return response
        }
        return Self.json(
            .ok,
            "{\"rows\":" + page.json().trimmingCharacters(in: .whitespacesAndNewlines)
                + ",\"total\":\(total),"
                + "\"offset\":\(offset),\"limit\":\(limit),\"nextOffset\":\(next)}\n")
    }

    /// The matrix's "read user-state report" row, over the caller's actors; the partner view to apply.
    static func userStateView(_ caller: Caller, tenant: Tenant) throws(Problem) -> PartnerView {
        let scope = PermissionScope(tenant: tenant.id, tenantPartner: tenant.partner)
        for actor in caller.actors where PermissionTable.allows(actor, .readUserStateReport, in: scope) {
            return PartnerView(reader: actor, privacy: tenant.dataPrivacy)
        }
        let rule = PermissionTable.rule(for: .readUserStateReport).rule
        throw Problem.forbidden(
            action: Action.readUserStateReport.rawValue, rule: rule,
            detail: "permission denied: \(caller.actorList) may not readUserStateReport (rule: \(rule))")
    }

    /// Runs `body` on the live projections, or on all of them built as of `asOf`.
    func withSet<T: Sendable>(
        asOf: AsOf?, _ body: @Sendable (ProjectionSet) throws(Problem) -> T
    )
        async throws(Problem) -> T
    {
        guard let asOf else { return try await readSide.read { (set) throws(Problem) -> T in try body(set) } }
        var set = ProjectionSet.standard()
        do {
            _ = try await ProjectionCatchUp.run(&set, from: store, asOf: asOf)
        } catch {
            throw Self.storageProblem()
        }
        return try body(set)
    }

}

/// A report's rows for one page: either the whole table, cut to the page here, or a table that already holds
/// only the page, with the number of rows of the whole report.
private struct PagedReport: Sendable {
    private let table: ReportTable
    private let prepaged: Bool
    /// Rows in the whole report.
    let total: Int

    /// The whole report, to be cut to the page.
    init(_ whole: ReportTable) {
        table = whole
        prepaged = false
        total = whole.rows.count
    }

    /// The page's rows only, of a report of `total` rows.
    init(page: ReportTable, total: Int) {
        table = page
        prepaged = true
        self.total = total
    }

    /// The rows from `offset`, at most `limit` of them.
    func page(offset: Int, limit: Int) -> ReportTable {
        prepaged ? table : ReportTable(columns: table.columns, rows: Array(table.rows.dropFirst(offset).prefix(limit)))
    }
}
