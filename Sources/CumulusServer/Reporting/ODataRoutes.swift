import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusOData
import CumulusProjections
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The feed's server-side state: the service with its page-link key (derived once, on the first request, from
/// the configured secret and the log's first event), the snapshots that page links pinned and the rows their
/// queries selected (so that page N+1 is cut from them, not computed again).
actor ODataFeed {
    /// How many pinned snapshots are kept, and for how long after the last page read from one.
    static let capacity = 8
    static let lifetime: Duration = .seconds(600)

    private let settings: ReportingSettings
    private let limits: ServerConfiguration.Limits
    private var service: ODataService?
    private var pinned: [(pin: ODataPin, snapshot: ODataSnapshot, used: ContinuousClock.Instant)] = []
    private var prepared: [(rows: ODataPreparedRows, used: ContinuousClock.Instant)] = []

    init(settings: ReportingSettings, limits: ServerConfiguration.Limits) {
        self.settings = settings
        self.limits = limits
    }

    /// The service; its key is derived on first use and then kept for the server's life.
    func service(store: any EventStore) async throws(EventStoreError) -> ODataService {
        if let service { return service }
        let first = try await store.readAll(after: GlobalPosition(0), maximumCount: 1).first?.id.description ?? "empty"
        if let service { return service }  // another request derived it while this one read the log
        let made = ODataService(
            configuration: ODataConfiguration(
                signingKey: settings.signingKey(firstEventID: first), pageSize: settings.pageSize,
                maximumWindowDays: limits.maximumIntervalWindowDays, maximumIntervalRows: limits.maximumIntervalRows,
                maximumUserStateRows: limits.maximumFeedUserStateRows))
        service = made
        return made
    }

    /// The snapshot a page link pinned, if still kept.
    func snapshot(for pin: ODataPin) -> ODataSnapshot? {
        let now = ContinuousClock.now
        pinned.removeAll { now - $0.used > Self.lifetime }
        guard let index = pinned.firstIndex(where: { $0.pin == pin }) else { return nil }
        pinned[index].used = now
        return pinned[index].snapshot
    }

    /// The rows earlier pages selected at `pin`, for the next pages of their queries.
    func prepared(for pin: ODataPin) -> [ODataPreparedRows] {
        let now = ContinuousClock.now
        prepared.removeAll { now - $0.used > Self.lifetime }
        var found: [ODataPreparedRows] = []
        for index in prepared.indices where prepared[index].rows.pinned == pin {
            prepared[index].used = now
            found.append(prepared[index].rows)
        }
        return found
    }

    /// Keeps the rows a query selected (the least recently used of ``capacity`` goes first).
    func keep(_ rows: ODataPreparedRows) {
        if prepared.count >= Self.capacity,
            let oldest = prepared.indices.min(by: { prepared[$0].used < prepared[$1].used })
        {
            prepared.remove(at: oldest)
        }
        prepared.append((rows, ContinuousClock.now))
    }

    /// Keeps the snapshot a first page answered from, for its next pages (the least recently used goes first).
    func keep(_ snapshot: ODataSnapshot, for pin: ODataPin) {
        guard !pinned.contains(where: { $0.pin == pin }) else { return }
        if pinned.count >= Self.capacity, let oldest = pinned.indices.min(by: { pinned[$0].used < pinned[$1].used }) {
            pinned.remove(at: oldest)
        }
        pinned.append((pin, snapshot, ContinuousClock.now))
    }
}

extension CumulusServer {
    /// `GET /odata/…`: the OData v4 feed (`CumulusOData`, docs/reporting.md) behind the API's sign-in.
    ///
    /// The bearer token (or, for clients that can only send a user name and password such as Power BI's *Basic*
    /// credential, the token as the password) maps to the caller's actors; the feed reads each tenant through the
    /// matrix's "read user-state report" row (user supervisor; partner administrator under the partner view) or
    /// as a systemAdmin. First pages are answered inside the read side from the live projections; a page link's
    /// snapshot is kept (``ODataFeed``) and, when no longer kept, rebuilt as of the position it pinned. Every
    /// failure is an OData error body with its status (400/401/403/404/503), never a 500.
    func addODataRoutes(to router: Router<ServerContext>) {
        let feed = ODataFeed(settings: configuration.odata, limits: configuration.limits)
        for pattern in ["odata", "odata/**"] {
            router.get(RouterPath(pattern)) { request, _ in
                await odata(request, feed: feed)
            }
        }
    }

    private func odata(_ request: Request, feed: ODataFeed) async -> Response {
        let response: ODataResponse
        do throws(ODataError) {
            response = try await answer(request, feed: feed)
        } catch {
            response = ODataService.response(for: error)
        }
        var headers = HTTPFields()
        for (name, value) in response.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        if response.status == 401 {
            headers[.wwwAuthenticate] = "Bearer realm=\"cumulus\", Basic realm=\"cumulus\""
        }
        return Response(
            status: HTTPResponse.Status(code: response.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
    }

    private func answer(_ request: Request, feed: ODataFeed) async throws(ODataError) -> ODataResponse {
        let caller = try await odataCaller(request)
        guard let first = caller.actors.first else {
            throw ODataError(
                status: 403, code: "Forbidden",
                message: "the token maps to no reader of the reporting feed: it needs a user supervisor of the "
                    + "tenant, a partner administrator or a system administrator")
        }
        var path = request.uri.path
        path = String(path.dropFirst("/odata".count))
        while path.hasPrefix("/") { path.removeFirst() }
        let odataRequest = ODataRequest(
            path: path.removingPercentEncoding ?? path, query: request.uri.query ?? "", baseURL: baseURL(request),
            reader: first, alsoReadingAs: Array(caller.actors.dropFirst()))
        let service: ODataService
        do {
            service = try await feed.service(store: store)
        } catch {
            throw Self.feedUnavailable
        }
        guard let pin = service.pin(of: odataRequest) else {
            // The first page (or a request without paging): answered inside the read side from the live
            // projections, so nothing is copied unless a page link pins the snapshot for the next pages.
            let now = Timestamp.now
            let (response, kept) = await readSide.read { set -> (ODataResponse, ODataSnapshot?) in
                guard let snapshot = Self.snapshot(set, position: set.position.rawValue, instant: now) else {
                    return (ODataService.response(for: Self.feedUnavailable), nil)
                }
                let response = service.respond(to: odataRequest) { _ in snapshot }
                return (response, response.pinned == nil ? nil : snapshot)
            }
            if let kept, let pinned = response.pinned { await feed.keep(kept, for: pinned) }
            if let rows = response.prepared { await feed.keep(rows) }
            return response
        }
        var snapshot = await feed.snapshot(for: pin)
        if snapshot == nil {
            snapshot = try await rebuild(as: pin)
            if let snapshot { await feed.keep(snapshot, for: pin) }
        }
        let candidates = await feed.prepared(for: pin)
        let response = service.respond(
            to: odataRequest, snapshot: { wanted in wanted == pin ? snapshot : nil }, reusing: candidates)
        // Rows computed again (none kept for this pin, e.g. after a restart): kept for the pages after this one.
        if candidates.isEmpty, let rows = response.prepared { await feed.keep(rows) }
        return response
    }

    /// The projections as of a pinned position, rebuilt from the log (a page link whose snapshot is no longer
    /// kept, e.g. after a restart with a configured signing secret); `nil` when the position is not in this log.
    private func rebuild(as pin: ODataPin) async throws(ODataError) -> ODataSnapshot? {
        do {
            guard pin.position <= (try await store.lastPosition()).rawValue else { return nil }
            var set = ProjectionSet.standard()
            _ = try await ProjectionCatchUp.run(&set, from: store, asOf: .position(GlobalPosition(pin.position)))
            return Self.snapshot(set, position: pin.position, instant: pin.instant)
        } catch {
            throw Self.feedUnavailable
        }
    }

    /// The caller, from `Authorization: Bearer TOKEN` or `Authorization: Basic base64(anything:TOKEN)`.
    private func odataCaller(_ request: Request) async throws(ODataError) -> Caller {
        var request = request
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("basic ") {
            let encoded = header.dropFirst("basic ".count).trimmingCharacters(in: .whitespaces)
            guard let data = Data(base64Encoded: encoded), let pair = String(data: data, encoding: .utf8),
                let colon = pair.firstIndex(of: ":")
            else {
                throw ODataError(
                    status: 401, code: "Unauthorized",
                    message: "the Basic credential is malformed: send base64(user:password) with the token as password")
            }
            var head = request.head
            head.headerFields[.authorization] = "Bearer " + pair[pair.index(after: colon)...]
            request = Request(head: head, body: request.body)
        }
        do {
            return try await authenticate(request)
        } catch {
            let code = error.status == .unauthorized ? "Unauthorized" : "Forbidden"
            throw ODataError(status: Int(error.status.code), code: code, message: error.detail)
        }
    }

    /// The feed's root URL: the configured one, else `http(s)://<Host>/odata/` (`https` when the server speaks it;
    /// a malformed `Host`: the listen address).
    private func baseURL(_ request: Request) -> String {
        if let configured = configuration.odata.baseURL { return configured }
        let scheme = configuration.scheme
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
        let host = request.head.authority ?? ""
        if !host.isEmpty, host.count <= 255, host.allSatisfy(allowed.contains) { return "\(scheme)://\(host)/odata/" }
        return "\(scheme)://\(configuration.host):\(configuration.port)/odata/"
    }

    static let feedUnavailable = ODataError(
        status: 503, code: "ServiceUnavailable", message: "the log could not be read; try again")

    /// The feed's view of a projection set.
    static func snapshot(_ set: ProjectionSet, position: UInt64, instant: Timestamp) -> ODataSnapshot? {
        guard let current = set.projection(CurrentStateProjection.self),
            let licences = set.projection(LicenceCountersProjection.self),
            let report = set.projection(UserStateReportProjection.self),
            let times = set.projection(TimeInStateProjection.self)
        else { return nil }
        return ODataSnapshot(
            position: position, instant: instant, currentState: current, licences: licences, report: report,
            timeInState: times)
    }
}
