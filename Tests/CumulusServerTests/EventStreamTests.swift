import CumulusCommands
import CumulusDomain
import CumulusLog
import CumulusServer
import Foundation
import Testing

/// What `GET /v1/events/live` and `GET /v1/states/live` share (`EventStreamResponse`): where the stream starts,
/// the frames, the events a reader may not see left out, and the end at shutdown (docs/serve.md).
@Suite(.serialized) struct EventStreamTests {
    static let time: Int64 = 1_794_787_600_000_000

    /// The body of a raw chunked answer read until a marker, a last chunk that was cut short included (chunks are
    /// `SIZE\r\nDATA\r\n`; Server-Sent Events have no `\r\n` in them).
    static func body(_ raw: String) -> String {
        guard let split = raw.range(of: "\r\n\r\n") else { return "" }
        let parts = raw[split.upperBound...].components(separatedBy: "\r\n")
        return stride(from: 1, to: parts.count, by: 2).map { parts[$0] }.joined()
    }

    @Test func withoutAResumePointBothStreamsStartAtTheEndOfTheLog() async throws {
        let server = try await ReportingRouteTests.server()
        let last = try await server.lastPosition()
        let events = await server.client.stream(
            "/v1/events/live", token: try await server.systemAdmin, until: "after \(last)\n\n")
        let head = LoopbackClient.parse(Array(events.utf8))
        #expect(head.status == 200 && head.headers["content-type"] == "text/event-stream", "\(events)")
        #expect(head.headers["cache-control"] == "no-cache")
        #expect(Self.body(events).hasPrefix(": cumulus live events after \(last)\n\n"), "\(events)")
        let states = await server.client.stream(
            "/v1/states/live", token: try await server.token(oid: ReportingRouteTests.supervisorOID),
            until: "after \(last)\n\n")
        #expect(LoopbackClient.parse(Array(states.utf8)).status == 200, "\(states)")
        #expect(Self.body(states).hasPrefix(": cumulus agent states after \(last)\n\n"), "\(states)")
        await server.stop()
    }

    @Test func lastEventIDWinsOverAfterAndEachFrameCarriesItsPosition() async throws {
        let server = try await ReportingRouteTests.server()
        let admin = try await server.systemAdmin
        let last = try await server.lastPosition()
        let byQuery = Self.body(
            await server.client.stream("/v1/events/live?after=\(last - 2)", token: admin, until: "id: \(last)\n"))
        #expect(byQuery.hasPrefix(": cumulus live events after \(last - 2)\n\nid: \(last - 1)\nevent: "), "\(byQuery)")
        // A reconnecting EventSource sends the URL it started with and the id it saw last: the header counts.
        let both = Self.body(
            await server.client.stream(
                "/v1/events/live?after=0", token: admin, headers: ["Last-Event-ID": String(last - 1)],
                until: "}\n\n"))
        #expect(both.hasPrefix(": cumulus live events after \(last - 1)\n\nid: \(last)\nevent: "), "\(both)")
        #expect(!both.contains("id: \(last - 1)\n"), "\(both)")
        // Each frame: id, event (the type), data (the event as `cumulus read` prints it), a blank line.
        let frame = try #require(both.split(separator: "\n\n", omittingEmptySubsequences: true).dropFirst().first)
        let lines = frame.split(separator: "\n")
        #expect(lines.count == 3 && lines[1].hasPrefix("event: ") && lines[2].hasPrefix("data: {"), "\(frame)")

        _ = try await server.server.handler.handle(
            CommandRequest(
                command: .recordPresence(user: server.world.agent, availability: .away, activity: .away),
                actor: .presenceFeed(server.world.tenant), occurredAt: Self.time))
        let supervisor = try await server.token(oid: ReportingRouteTests.supervisorOID)
        let states = Self.body(
            await server.client.stream(
                "/v1/states/live?after=0", token: supervisor, headers: ["Last-Event-ID": String(last)],
                until: "\"at\":"))
        #expect(
            states.hasPrefix(
                ": cumulus agent states after \(last)\n\nid: \(last + 1)\n"
                    + "data: {\"userId\":\"\(server.world.agent)\",\"availability\":\"Away\",\"activity\":\"Away\""),
            "\(states)")
        await server.stop()
    }

    @Test func aResumePointThatIsNotAPositionIsRefusedWith400() async throws {
        let server = try await ReportingRouteTests.server()
        let admin = try await server.systemAdmin
        let supervisor = try await server.token(oid: ReportingRouteTests.supervisorOID)
        for (path, token) in [("/v1/events/live", admin), ("/v1/states/live", supervisor)] {
            for bad in ["abc", "-1", "1.5", "", "18446744073709551616"] {
                let header = await server.client.get(path, token: token, headers: ["Last-Event-ID": bad])
                #expect(header.status == 400 && header.headers["content-type"] == "application/problem+json")
                #expect(header.json["type"] as? String == "https://cumulus.dev/problems/bad-header", "\(header.body)")
                #expect(header.json["field"] as? String == "Last-Event-ID", "\(path) \(bad): \(header.body)")
                let query = await server.client.get(path + "?after=" + bad, token: token)
                #expect(query.status == 400 && query.headers["content-type"] == "application/problem+json")
                #expect(query.json["field"] as? String == "after", "\(path) \(bad): \(query.body)")
            }
            // Both are checked, though the header decides where a good pair starts.
            let both = await server.client.get(path + "?after=x", token: token, headers: ["Last-Event-ID": "1"])
            #expect(both.status == 400 && both.json["field"] as? String == "after", "\(both.body)")
            // Authorization comes first: no token, no word about the parameters.
            #expect(await server.client.get(path + "?after=x").status == 401)
        }
        // The token given in the query (the dashboard's EventSource) is not repeated in the problem.
        let dashboard = await server.client.get("/v1/states/live?access_token=\(supervisor)&after=soon")
        #expect(dashboard.status == 400 && !dashboard.body.contains(supervisor), "\(dashboard.body)")
        await server.stop()
    }

    @Test func aResumePointPastTheEndOfTheLogIsRefusedWith400() async throws {
        let server = try await ReportingRouteTests.server()
        let admin = try await server.systemAdmin
        let supervisor = try await server.token(oid: ReportingRouteTests.supervisorOID)
        let last = try await server.lastPosition()
        // A client of another log (or of this one before a restore) would otherwise wait for positions this log
        // reaches only with other events, and never see the ones up to it.
        for (path, token) in [("/v1/events/live", admin), ("/v1/states/live", supervisor)] {
            let header = await server.client.get(path, token: token, headers: ["Last-Event-ID": String(last + 1)])
            #expect(header.status == 400 && header.headers["content-type"] == "application/problem+json")
            #expect(header.json["type"] as? String == "https://cumulus.dev/problems/bad-header", "\(header.body)")
            #expect(header.json["field"] as? String == "Last-Event-ID", "\(path): \(header.body)")
            let detail = header.json["detail"] as? String ?? ""
            #expect(detail.contains("past the end of the log (its last position is \(last))"), "\(detail)")
            let query = await server.client.get(path + "?after=\(last + 100)", token: token)
            #expect(query.status == 400 && query.json["field"] as? String == "after", "\(path): \(query.body)")
        }
        let poll = await server.client.get("/v1/events?after=\(last + 1)", token: admin)
        #expect(poll.status == 400 && poll.json["field"] as? String == "after", "\(poll.body)")
        // The last position itself is where a caught-up client stands: nothing after it yet.
        let caughtUp = await server.client.get("/v1/events?after=\(last)", token: admin)
        #expect(caughtUp.status == 200 && caughtUp.body.isEmpty, "\(caughtUp.body)")
        await server.stop()
    }

    @Test func eventsAReaderMayNotSeeAreLeftOut() async throws {
        let server = try await ReportingRouteTests.server()
        let world = server.world
        // The log: Contoso's events and Fabrikam's, then a presence change in each.
        let stranger = UserID(UUID())
        var time = Self.time
        for command: Command in [
            .setPresenceTrackingPermission(tenant: world.otherTenant, granted: true),
            .changePresenceTrackingSettings(
                tenant: world.otherTenant, enabled: true, account1: "presence@fabrikam.onmicrosoft.com",
                account2: nil),
            .changeDataPrivacySettings(
                tenant: world.otherTenant,
                settings: DataPrivacySettings(persistUserStatesInReporting: true, showTimeInState: true)),
            .createUser(
                tenant: world.otherTenant, user: stranger, upn: "sam@fabrikam.com", displayName: "Sam", ou: nil),
        ] {
            time += 1_000_000
            _ = try await server.server.handler.handle(
                CommandRequest(command: command, actor: .systemAdmin, occurredAt: time))
        }
        let before = try await server.lastPosition()
        for (user, tenant) in [(stranger, world.otherTenant), (world.agent, world.tenant)] {
            time += 1_000_000
            _ = try await server.server.handler.handle(
                CommandRequest(
                    command: .recordPresence(user: user, availability: .busy, activity: .inACall),
                    actor: .presenceFeed(tenant), occurredAt: time))
        }
        let last = try await server.lastPosition()
        #expect(last == before + 2)

        // The raw log: an Auditor of Contoso gets Contoso's events only; a systemAdmin all of them.
        let audited = Self.body(
            await server.client.stream(
                "/v1/events/live?after=0", token: try await server.auditor, until: "id: \(last)\n"))
        #expect(audited.contains("id: \(last)\n") && audited.contains("\"stream\":\"tenant-\(world.tenant)\""))
        #expect(!audited.contains("id: \(last - 1)\n"), "the auditor saw Fabrikam's presence change: \(audited)")
        #expect(!audited.contains(world.otherTenant.description) && !audited.contains("\(stranger)"), "\(audited)")
        let all = Self.body(
            await server.client.stream(
                "/v1/events/live?after=0", token: try await server.systemAdmin, until: "id: \(last)\n"))
        #expect(all.contains("id: \(last - 1)\n") && all.contains("\(stranger)"), "\(all)")

        // Agents' states: Contoso's supervisor gets Contoso's agent only; a systemAdmin both; no other events.
        let agent = "data: {\"userId\":\"\(world.agent)\""
        let supervised = Self.body(
            await server.client.stream(
                "/v1/states/live?after=\(before)",
                token: try await server.token(oid: ReportingRouteTests.supervisorOID),
                until: agent))
        #expect(supervised.contains("id: \(last)\n\(agent)"), "\(supervised)")
        #expect(!supervised.contains("\(stranger)") && !supervised.contains("id: \(last - 1)\n"), "\(supervised)")
        let everyone = Self.body(
            await server.client.stream(
                "/v1/states/live?after=\(before)", token: try await server.systemAdmin, until: agent))
        #expect(everyone.contains("id: \(last - 1)\ndata: {\"userId\":\"\(stranger)\""), "\(everyone)")
        let fromTheStart = Self.body(
            await server.client.stream(
                "/v1/states/live?after=0", token: try await server.systemAdmin, until: agent))
        let ids = fromTheStart.split(separator: "\n").filter { $0.hasPrefix("id: ") }
        #expect(ids == ["id: \(last - 1)", "id: \(last)"], "only state and presence changes: \(fromTheStart)")
        await server.stop()
    }

    @Test func bothStreamsEndWhenTheServerShutsDown() async throws {
        let server = try await ReportingRouteTests.server()
        let admin = try await server.systemAdmin
        let supervisor = try await server.token(oid: ReportingRouteTests.supervisorOID)
        // Read until the server closes (no marker); the clients give up after 30 s.
        async let events = server.client.stream("/v1/events/live", token: admin, until: "no such text")
        async let states = server.client.stream("/v1/states/live", token: supervisor, until: "no such text")
        try await Task.sleep(for: .seconds(1))
        await server.stop()
        for (raw, name) in [(await events, "live events"), (await states, "agent states")] {
            #expect(Self.body(raw).hasPrefix(": cumulus \(name) after "), "\(raw)")
            // The chunked body was ended properly (its last chunk), not cut off by the client's timeout.
            #expect(raw.hasSuffix("0\r\n\r\n"), "\(raw)")
        }
    }
}
