import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusProjections
import Foundation
import Hummingbird

extension CumulusServer {
    /// `GET /v1/events` (JSON Lines) and `GET /v1/events/live` (Server-Sent Events), rendered as `cumulus read`
    /// renders them: payloads holding secrets withheld. For a systemAdmin (the whole log) and an `Auditor`
    /// (the events of its tenant's streams). `GET /v1/events/head`: the chain head (last position and link) for
    /// both.
    func addEventRoutes(to router: Router<ServerContext>) {
        router.get("v1/events") { request, _ in
            let caller = try await authenticate(request)
            let filter = try await eventFilter(caller)
            let parameters = request.uri.queryParameters
            let after = try Self.integer(parameters.get("after"), name: "after", default: 0, range: 0...Int.max)
            let limit = try Self.integer(
                parameters.get("limit"), name: "limit", default: 1000,
                range: 1...configuration.limits.maximumEventsPerPage)
            if after > 0 {
                let head: GlobalPosition
                do { head = try await store.lastPosition() } catch { throw Self.storageProblem() }
                try Self.refusePastTheEnd(UInt64(after), head: head, field: "after")
            }
            var text = ""
            if let streamText = parameters.get("stream") {
                let stream: StreamName
                do { stream = try StreamName(streamText) } catch {
                    throw Problem.badParameter("stream", "stream: \(error)")
                }
                let events: [RecordedEvent]
                do {
                    events = try await store.read(stream: stream, from: StreamVersion(1), maximumCount: Int.max)
                } catch {
                    throw Self.storageProblem()
                }
                let selected = events.filter { $0.position.rawValue > after && filter($0.stream.rawValue) }
                for event in selected.prefix(limit) { text += Self.render(event) + "\n" }
            } else {
                var position = GlobalPosition(UInt64(after))
                var count = 0
                while count < limit {
                    let batch: [RecordedEvent]
                    do {
                        batch = try await store.readAll(after: position, maximumCount: min(4096, limit))
                    } catch {
                        throw Self.storageProblem()
                    }
                    guard let last = batch.last else { break }
                    for event in batch where count < limit && filter(event.stream.rawValue) {
                        text += Self.render(event) + "\n"
                        count += 1
                    }
                    position = last.position
                }
            }
            return Self.json(.ok, text, contentType: "application/x-ndjson")
        }
        // The chain head as it stands: what an auditor writes down now and then, and later checks with
        // `cumulus verify --expect-head` (the walk that proves it is not done per request). The last position and the
        // link at it are read one after the other; the log only grows, so the link stays the one at that position.
        router.get("v1/events/head") { request, _ in
            let caller = try await authenticate(request)
            _ = try await eventFilter(caller)
            let last: GlobalPosition
            let link: String?
            do {
                last = try await store.lastPosition()
                link = try await store.chainLink(at: last)
            } catch {
                throw Self.storageProblem()
            }
            let body =
                if let link {
                    "{\"lastPosition\":\(last.rawValue),\"chainLink\":\"\(link)\",\"expectHead\":\"\(last.rawValue):\(link)\"}"
                } else {
                    "{\"lastPosition\":\(last.rawValue),\"chainLink\":null,\"expectHead\":null}"
                }
            return Self.json(.ok, body)
        }
        router.get("v1/events/live") { request, _ in
            let caller = try await authenticate(request)
            let filter = try await eventFilter(caller)
            return try await EventStreamResponse.make(request, store: store, name: "cumulus live events") { _ in
                { event in
                    guard filter(event.stream.rawValue) else { return nil }
                    return EventStreamFrame(event: event.type, data: Self.render(event))
                }
            }
        }
    }

    static func storageProblem() -> Problem {
        Problem(.serviceUnavailable, kind: "storage", title: "Storage unavailable", detail: "the log could not be read")
    }

    /// Refuses a position to read after that lies past the end of the log: the client knows of events this log
    /// does not hold (it followed another log, or this one before it was restored from an older copy), and
    /// reading or waiting from there would silently skip the events up to it once the log grows again.
    /// - Throws: `Problem` 400 naming `field` (`bad-header` for `Last-Event-ID`, else `bad-parameter`).
    static func refusePastTheEnd(_ position: UInt64, head: GlobalPosition, field: String) throws(Problem) {
        guard let past = GlobalPosition.pastTheEnd(position, head: head, named: field) else { return }
        let detail =
            past + ": the log holds no such event (a client of another log, or of this one before it was restored "
            + "from an older copy); ask again with a position up to \(head.rawValue)"
        if field == "after" { throw Problem.badParameter(field, detail) }
        throw Problem(.badRequest, kind: "bad-header", title: "Bad header", detail: detail, field: field)
    }

    /// Which streams the caller may read: all for a systemAdmin, its tenant's for an Auditor; else 403.
    func eventFilter(_ caller: Caller) async throws(Problem) -> @Sendable (String) -> Bool {
        if caller.actors.contains(.systemAdmin) { return { _ in true } }
        guard caller.isAuditor, let tenant = caller.tenant else {
            let rule = "the log: systemAdmin (all of it) or the Auditor app role (its tenant's streams)"
            throw Problem.forbidden(
                action: "readLog", rule: rule,
                detail: "permission denied: \(caller.actorList) may not read the log "
                    + "(rule: \(rule))")
        }
        let streams: Set<String> = await readSide.read { set in
            guard let current = set.projection(CurrentStateProjection.self) else { return [] }
            var streams: Set<String> = ["tenant-\(tenant)", "licences-\(tenant)"]
            for ou in current.organisationUnits(in: tenant) { streams.insert("ou-\(ou.id)") }
            for service in current.services(in: tenant) { streams.insert("service-\(service.id)") }
            for user in current.users(in: tenant) { streams.insert("user-\(user.id)") }
            return streams
        }
        return { streams.contains($0) }
    }

    /// An event as `cumulus read` prints it (payloads with secrets withheld).
    static func render(_ event: RecordedEvent) -> String {
        let decoded = try? DomainEvent.decode(
            type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
        let withhold = decoded?.carriesSecrets ?? DomainEvent.typesCarryingSecrets.contains(event.type)
        return EnvelopeJSON.line(
            for: event, withholdPayload: withhold, rendering: decoded?.fieldsJSON)
    }
}
