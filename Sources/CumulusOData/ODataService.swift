import Crypto
public import CumulusDomain
public import CumulusLog
import CumulusProjections
import Foundation

/// Limits and the page-link key of the feed.
public struct ODataConfiguration: Sendable {
    /// Rows per page before an `@odata.nextLink` (capped at ``maximumPageSize``).
    public var pageSize: Int
    /// The most rows one page may hold, whatever `pageSize` says.
    public var maximumPageSize: Int
    /// The largest `$top` accepted; more is refused (400), never run unbounded.
    public var maximumTop: Int
    /// The widest `IntervalStart` range one `TimeInStateIntervals` query may span, in days.
    public var maximumWindowDays: Int
    /// The most (user, interval) pairs one `TimeInStateIntervals` query may span (each gives at least one row,
    /// and a query's rows are all built before its first page); more is a 400 `TooManyRows`.
    public var maximumIntervalRows: Int
    /// The most `UserStates` rows one query may select before `$filter`'s other terms, `$top` or paging (a query's
    /// rows are all built, about 0.6 KB each, before its first page); more is a 400 `TooManyRows`.
    public var maximumUserStateRows: Int
    /// The key page links are signed with; a server of another log has another key, so its links are refused.
    public var signingKey: [UInt8]

    /// The key as CryptoKit takes it.
    var key: SymmetricKey { SymmetricKey(data: signingKey) }

    /// Creates a configuration; `signingKey` should be secret and stable across restarts of one server.
    public init(
        signingKey: [UInt8], pageSize: Int = 1_000, maximumPageSize: Int = 5_000, maximumTop: Int = 100_000,
        maximumWindowDays: Int = 93, maximumIntervalRows: Int = 1_000_000, maximumUserStateRows: Int = 1_000_000
    ) {
        self.signingKey = signingKey
        self.pageSize = pageSize
        self.maximumPageSize = maximumPageSize
        self.maximumTop = maximumTop
        self.maximumWindowDays = maximumWindowDays
        self.maximumIntervalRows = maximumIntervalRows
        self.maximumUserStateRows = maximumUserStateRows
    }
}

/// A request to the feed, as the HTTP layer parsed it.
public struct ODataRequest: Sendable {
    /// The path below the feed's root, without a leading slash: ``, `$metadata`, `UserStates`, `Users/$count`.
    public var path: String
    /// The raw query string (percent-encoded, without `?`).
    public var query: String
    /// The feed's absolute root URL ending with `/` (`https://host/odata/`), used in context URLs and next links.
    public var baseURL: String
    /// Who reads (from the bearer token): the first of ``readers``.
    public var reader: Actor { readers[0] }
    /// Every actor the reader holds (a token may map to several, e.g. a user supervisor of one tenant who is
    /// also a partner administrator); each tenant is read through the one that shows the most (names before
    /// placeholders). Never empty.
    public private(set) var readers: [Actor]

    /// Assembles a request.
    public init(path: String, query: String, baseURL: String, reader: Actor) {
        self.init(path: path, query: query, baseURL: baseURL, reader: reader, alsoReadingAs: [])
    }

    /// Assembles a request from a reader holding several actors (`reader` first, then `others`).
    public init(path: String, query: String, baseURL: String, reader: Actor, alsoReadingAs others: [Actor]) {
        self.path = path
        self.query = query
        self.baseURL = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
        self.readers = [reader] + others
    }
}

/// What to answer: status, headers and body.
public struct ODataResponse: Sendable {
    /// The HTTP status.
    public var status: Int
    /// Headers in order (`Content-Type`, `OData-Version`).
    public var headers: [(name: String, value: String)]
    /// The body bytes.
    public var body: [UInt8]
    /// The point the answer's `@odata.nextLink` pinned, if it has one: the server keeps the snapshot it
    /// answered from so that the next pages are read from the same point cheaply.
    public var pinned: ODataPin?
    /// The rows the query selected, when the answer has a next link: handed back to
    /// ``ODataService/respond(to:snapshot:reusing:)`` for the next pages, they are cut from these rows instead of
    /// being computed again.
    public var prepared: ODataPreparedRows?

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The value of header `name` (case-insensitive), if present.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// The rows one query selected (filtered, sorted, `$skip`/`$top` applied) from the snapshot its page links pin.
/// Opaque: the server keeps a few and passes them back; the feed uses one only for the same entity set, query,
/// readers and pin.
public struct ODataPreparedRows: Sendable {
    let pin: ODataPin
    let entitySet: String
    let queryDigest: String
    let readers: [Actor]
    let rows: [ODataRow]
    let count: Int

    /// The pin the rows were selected at.
    public var pinned: ODataPin { pin }
}

/// The point in the log a page link pinned: the server answers from a snapshot as of it.
public struct ODataPin: Hashable, Sendable {
    /// The log position of the first page.
    public var position: UInt64
    /// The instant open rows were measured to on the first page.
    public var instant: Timestamp
}

/// The OData v4 reporting feed (domain.md §11): JSON, `OData-Version: 4.0`, read-only, no HTTP server inside.
///
/// ```swift
/// let feed = ODataService(configuration: ODataConfiguration(signingKey: key))
/// let response = feed.respond(to: request) { pin in
///     pin.map { try? snapshot(asOf: $0.position, instant: $0.instant) } ?? latestSnapshot()
/// }
/// ```
public struct ODataService: Sendable {
    /// Limits and key.
    public var configuration: ODataConfiguration

    /// A feed with `configuration`.
    public init(configuration: ODataConfiguration) { self.configuration = configuration }

    /// Answers `request`. `snapshot` gives the projections: the latest when the pin is `nil`, or as of the pin a
    /// page link carries (return `nil` if that point cannot be read: the answer is then 400).
    public func respond(to request: ODataRequest, snapshot: (ODataPin?) -> ODataSnapshot?) -> ODataResponse {
        respond(to: request, snapshot: snapshot, reusing: [])
    }

    /// Answers `request` as ``respond(to:snapshot:)`` does; a page link's page is cut from the matching rows among
    /// `prepared` (``ODataResponse/prepared`` of earlier pages) when there is one, instead of being computed again.
    public func respond(
        to request: ODataRequest, snapshot: (ODataPin?) -> ODataSnapshot?, reusing prepared: [ODataPreparedRows]
    ) -> ODataResponse {
        do {
            return try answer(request, snapshot: snapshot, prepared: prepared)
        } catch {
            return Self.json(status: error.status, error.body)
        }
    }

    /// The point a page link in `request` pinned, if it carries a valid one: an HTTP layer that loads snapshots
    /// asynchronously calls this first, prepares the snapshot as of the pin, then calls ``respond(to:snapshot:)``.
    /// An invalid link gives `nil` here and a 400 from ``respond(to:snapshot:)``.
    public func pin(of request: ODataRequest) -> ODataPin? {
        var path = request.path
        while path.hasPrefix("/") { path.removeFirst() }
        while path.hasSuffix("/") { path.removeLast() }
        if path.hasSuffix("/$count") { path = String(path.dropLast("/$count".count)) }
        guard let set = EntitySet(rawValue: path), let options = try? QueryOptions(parsing: request.query),
            let text = options.skipToken,
            let token = try? PageToken(
                decoding: text, key: configuration.key, entitySet: set.rawValue,
                queryDigest: PageToken.digest(of: options.withoutSkipToken))
        else { return nil }
        return ODataPin(position: token.position, instant: Timestamp(microsecondsSinceEpoch: token.instantMicros))
    }

    private func answer(
        _ request: ODataRequest, snapshot: (ODataPin?) -> ODataSnapshot?, prepared: [ODataPreparedRows]
    ) throws(ODataError) -> ODataResponse {
        var path = request.path
        while path.hasPrefix("/") { path.removeFirst() }
        while path.hasSuffix("/") { path.removeLast() }
        let options = try QueryOptions(parsing: request.query)
        if path.isEmpty {
            try options.refuseAll(for: "the service document")
            return Self.json(status: 200, serviceDocument(request.baseURL))
        }
        if path == "$metadata" {
            try options.refuseAll(for: "$metadata")
            return ODataResponse(
                status: 200,
                headers: [("Content-Type", "application/xml;charset=utf-8"), ("OData-Version", "4.0")],
                body: Array(CSDL.document().utf8))
        }
        var countOnly = false
        var setName = path
        if path.hasSuffix("/$count") {
            countOnly = true
            setName = String(path.dropLast("/$count".count))
        }
        guard let set = EntitySet(rawValue: setName) else {
            if setName.contains("(") {
                throw ODataError(
                    status: 404, code: "NotFound",
                    message: "'\(setName)': addressing a single entity by key is not supported; use $filter")
            }
            throw ODataError(
                status: 404, code: "NotFound",
                message: "no entity set '\(setName)'; the feed has "
                    + EntitySet.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let query = try ParsedQuery(options, set: set, configuration: configuration)
        let digest = PageToken.digest(of: options.withoutSkipToken)
        let token = try options.skipToken.map { text throws(ODataError) in
            try PageToken(decoding: text, key: configuration.key, entitySet: set.rawValue, queryDigest: digest)
        }
        let pin = token.map {
            ODataPin(position: $0.position, instant: Timestamp(microsecondsSinceEpoch: $0.instantMicros))
        }
        guard let snapshot = snapshot(pin) else {
            throw .badRequest("BadSkipToken", "$skiptoken: the log position it pinned cannot be read here")
        }
        if let pin, snapshot.position != pin.position || snapshot.instant != pin.instant {
            throw .badRequest("BadSkipToken", "$skiptoken: the log position it pinned cannot be read here")
        }
        let here = ODataPin(position: snapshot.position, instant: snapshot.instant)
        let selected: [ODataRow]
        let count: Int
        if !countOnly, pin != nil,
            let reused = prepared.first(where: {
                $0.pin == here && $0.entitySet == set.rawValue && $0.queryDigest == digest
                    && $0.readers == request.readers
            })
        {
            selected = reused.rows
            count = reused.count
        } else {
            let scope = try ReadScope(readers: request.readers, state: snapshot.currentState)
            let range = set.rangeProperty.map { query.filter?.instantBounds(of: $0) ?? (nil, nil) } ?? (nil, nil)
            var rows = try set.rows(
                snapshot, scope: scope, range: range, interval: query.interval,
                maximumWindowDays: configuration.maximumWindowDays,
                maximumIntervalRows: configuration.maximumIntervalRows,
                maximumUserStateRows: configuration.maximumUserStateRows)
            if let filter = query.filter { rows = rows.filter(filter.matches) }
            count = rows.count
            if countOnly {
                return ODataResponse(
                    status: 200, headers: [("Content-Type", "text/plain;charset=utf-8"), ("OData-Version", "4.0")],
                    body: Array(String(count).utf8))
            }
            if !query.orderBy.isEmpty {
                let index = set.propertyIndex
                // Names the parser accepted are the set's properties; an index past the row reads null.
                let orderBy = query.orderBy.map { (index: index[$0.0] ?? -1, descending: $0.descending) }
                let key = index[set.key] ?? -1
                func value(_ row: ODataRow, _ index: Int) -> ODataValue { index >= 0 ? row[index: index] : .null }
                rows = rows.enumerated().sorted { lhs, rhs in
                    for (property, descending) in orderBy {
                        let order = ODataValue.compare(value(lhs.element, property), value(rhs.element, property)) ?? 0
                        if order != 0 { return descending ? order > 0 : order < 0 }
                    }
                    let tie = ODataValue.compare(value(lhs.element, key), value(rhs.element, key)) ?? 0
                    return tie != 0 ? tie < 0 : lhs.offset < rhs.offset
                }.map(\.element)
            }
            let afterSkip = rows.dropFirst(query.skip)
            selected = Array(query.top.map { afterSkip.prefix($0) } ?? afterSkip)
        }
        let offset = token?.offset ?? 0
        let pageSize = max(1, min(configuration.pageSize, configuration.maximumPageSize))
        let page = selected.dropFirst(offset).prefix(pageSize)
        let selection = query.select.map { "(" + $0.joined(separator: ",") + ")" } ?? ""
        var body =
            "{\"@odata.context\":" + JSONWriter.string(request.baseURL + "$metadata#" + set.rawValue + selection)
        if query.count { body += ",\"@odata.count\":\(count)" }
        body += ",\"value\":["
        let names = query.select ?? set.properties.map(\.name)
        let properties = names.map { (name: JSONWriter.string($0) + ":", index: set.propertyIndex[$0]) }
        for (index, row) in page.enumerated() {
            body += index == 0 ? "{" : ",{"
            body += properties.map { $0.name + JSONWriter.value($0.index.map { row[index: $0] } ?? .null) }
                .joined(separator: ",")
            body += "}"
        }
        body += "]"
        if offset + page.count < selected.count {
            let next = PageToken(
                entitySet: set.rawValue, position: snapshot.position,
                instantMicros: snapshot.instant.microsecondsSinceEpoch, offset: offset + page.count,
                queryDigest: digest
            ).encoded(key: configuration.key)
            let link =
                request.baseURL + set.rawValue + "?"
                + (options.withoutSkipToken + [("$skiptoken", next)]).map {
                    QueryOptions.encode($0.0) + "=" + QueryOptions.encode($0.1)
                }.joined(separator: "&")
            body += ",\"@odata.nextLink\":" + JSONWriter.string(link)
        }
        body += "}"
        var response = Self.json(status: 200, body)
        if offset + page.count < selected.count {
            response.pinned = here
            response.prepared = ODataPreparedRows(
                pin: here, entitySet: set.rawValue, queryDigest: digest, readers: request.readers, rows: selected,
                count: count)
        }
        return response
    }

    private func serviceDocument(_ base: String) -> String {
        "{\"@odata.context\":" + JSONWriter.string(base + "$metadata") + ",\"value\":["
            + EntitySet.allCases.map {
                "{\"name\":" + JSONWriter.string($0.rawValue) + ",\"kind\":\"EntitySet\",\"url\":"
                    + JSONWriter.string($0.rawValue) + "}"
            }.joined(separator: ",") + "]}"
    }

    /// The answer for `error`: its status, the OData JSON error body and `OData-Version: 4.0` (for an HTTP layer
    /// refusing a request before the feed reads it, e.g. a missing or bad token).
    public static func response(for error: ODataError) -> ODataResponse {
        json(status: error.status, error.body)
    }

    static func json(status: Int, _ body: String) -> ODataResponse {
        ODataResponse(
            status: status,
            headers: [
                ("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;charset=utf-8"),
                ("OData-Version", "4.0"),
            ], body: Array(body.utf8))
    }
}
