import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusProjections
import Foundation
import HTTPTypes
import Hummingbird

extension CumulusServer {
    /// `GET /v1/states/live`: the agents' state changes as Server-Sent Events, for the dashboard.
    ///
    /// One `data:` line per `UserStateChanged` or `PresenceChanged` of a user whose tenant the caller may read
    /// the user-state report of (the matrix's row: userSupervisor; partnerAdmin; and a systemAdmin) and whose
    /// tenant shows time in state: `{"userId":…,"userState":…}` or `{"userId":…,"availability":…,"activity":…}`
    /// with `at` (`occurredAt`); `id:` is the log position, so a reconnecting `EventSource` resumes after
    /// `Last-Event-ID` (or `?after=`); else the stream starts at the end of the log. No names are sent. The stream
    /// itself (resume, frames, end) is `EventStreamResponse`.
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
            let actors = caller.actors
            let readSide = readSide
            return try await EventStreamResponse.make(request, store: store, name: "cumulus agent states") { batch in
                let changes = Dictionary(
                    uniqueKeysWithValues: batch.compactMap { event in
                        Self.stateChange(event).map { (event.position, $0) }
                    }
                )
                guard let last = batch.last, !changes.isEmpty else { return { _ in nil } }
                try await readSide.catchUp(to: last.position)
                let users = Set(changes.values.map(\.user))
                let readable = await readSide.read { set in Self.readableUsers(users, actors: actors, set: set) }
                return { event in
                    guard let change = changes[event.position], readable.contains(change.user) else { return nil }
                    return EventStreamFrame(data: change.data)
                }
            }
        }
    }

    /// The user and the SSE `data:` (one JSON line) of a state or presence change; `nil` for any other event.
    static func stateChange(_ event: RecordedEvent) -> (user: UserID, data: String)? {
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
        return (user, data)
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
