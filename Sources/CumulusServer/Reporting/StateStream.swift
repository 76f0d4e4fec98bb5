import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusProjections
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

extension CumulusServer {
    /// `GET /v1/states/live`: the agents' state changes as Server-Sent Events, for the dashboard.
    ///
    /// One `data:` line per `UserStateChanged` or `PresenceChanged` of a user whose tenant the caller may read
    /// the user-state report of (the matrix's row: userSupervisor; partnerAdmin; and a systemAdmin) and whose
    /// tenant shows time in state: `{"userId":…,"userState":…}` or `{"userId":…,"availability":…,"activity":…}`
    /// with `at` (`occurredAt`); `id:` is the log position, so a reconnecting `EventSource` resumes after
    /// `Last-Event-ID` (or `?after=`); else the stream starts at the end of the log. No names are sent.
    ///
    /// A browser's `EventSource` cannot send an `Authorization` header, so this route (and only this one) also
    /// takes the token as `?access_token=`; it is never logged or repeated.
    func addStateStreamRoutes(to router: Router<ServerContext>) {
        router.get("v1/states/live") { request, _ in
            var request = request
            if request.headers[.authorization] == nil,
                let token = request.uri.queryParameters.get("access_token").map({ String($0) }), !token.isEmpty
            {
                var head = request.head
                head.headerFields[.authorization] = "Bearer " + token
                request = Request(head: head, body: request.body)
            }
            let caller = try await authenticate(request)
            let kinds: Set<ActorKind> = [.systemAdmin, .partnerAdmin, .userSupervisor]
            guard caller.actors.contains(where: { kinds.contains($0.kind) }) else {
                let rule = PermissionTable.rule(for: .readUserStateReport).rule
                throw Problem.forbidden(
                    action: Action.readUserStateReport.rawValue, rule: rule,
                    detail: "permission denied: \(caller.actorList) may not read agents' states (rule: \(rule))")
            }
            let resume =
                request.headers.first(where: { $0.name.canonicalName == "last-event-id" }).flatMap { UInt64($0.value) }
                ?? request.uri.queryParameters.get("after").flatMap { UInt64($0) }
            let origin: GlobalPosition
            if let resume {
                origin = GlobalPosition(resume)
            } else {
                do { origin = try await store.lastPosition() } catch { throw Self.storageProblem() }
            }
            let actors = caller.actors
            let server = self
            let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            let producer = Task {
                await cancelWhenGracefulShutdown {
                    var position = origin
                    continuation.yield(ByteBuffer(string: ": cumulus agent states after \(origin.rawValue)\n\n"))
                    while !Task.isCancelled {
                        do {
                            try await server.store.waitForEvents(after: position)
                            let batch = try await server.store.readAll(after: position, maximumCount: 1024)
                            guard let last = batch.last else { continue }
                            position = last.position
                            let changes = batch.compactMap(Self.stateChange)
                            if changes.isEmpty { continue }
                            try await server.readSide.catchUp(to: last.position)
                            let readable = await server.readSide.read { set in
                                Self.readableUsers(Set(changes.map(\.user)), actors: actors, set: set)
                            }
                            let chunk = changes.filter { readable.contains($0.user) }.map(\.line).joined()
                            if !chunk.isEmpty { continuation.yield(ByteBuffer(string: chunk)) }
                        } catch {
                            break
                        }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in producer.cancel() }
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: stream))
        }
    }

    /// The user and SSE lines of a state or presence change; `nil` for any other event.
    static func stateChange(_ event: RecordedEvent) -> (user: UserID, line: String)? {
        guard event.type == "UserStateChanged" || event.type == "PresenceChanged",
            let decoded = try? DomainEvent.decode(
                type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
        else { return nil }
        let fields: [(String, String)]
        let user: UserID
        switch decoded {
        case .userStateChanged(let change):
            user = change.user
            fields = [("userState", change.state.description)]
        case .presenceChanged(let change):
            user = change.user
            fields = [("availability", change.availability.rawValue), ("activity", change.activity.rawValue)]
        default: return nil
        }
        let members = [("userId", user.description)] + fields + [("at", event.occurredAt.iso8601)]
        let data = "{" + members.map { jsonQuoted($0.0) + ":" + jsonQuoted($0.1) }.joined(separator: ",") + "}"
        return (user, "id: \(event.position.rawValue)\ndata: \(data)\n\n")
    }

    /// The users among `users` whose state the actors may read: their tenant shows time in state and one actor
    /// is a systemAdmin or may read the tenant's user-state report.
    static func readableUsers(_ users: Set<UserID>, actors: [Actor], set: ProjectionSet) -> Set<UserID> {
        guard let current = set.projection(CurrentStateProjection.self),
            let times = set.projection(TimeInStateProjection.self)
        else { return [] }
        return users.filter { id in
            guard let user = current.users[id], let tenant = current.tenants[user.tenant],
                times.isShown(for: tenant.id)
            else { return false }
            let scope = PermissionScope(tenant: tenant.id, tenantPartner: tenant.partner)
            return actors.contains { $0 == .systemAdmin || PermissionTable.allows($0, .readUserStateReport, in: scope) }
        }
    }
}
