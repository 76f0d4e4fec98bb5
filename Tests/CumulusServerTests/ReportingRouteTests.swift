import CumulusCommands
import CumulusDomain
import CumulusLog
import CumulusServer
import Foundation
import Testing

/// The OData feed at `/odata/`, the dashboard at `/` and the agents' live states, through the real router on a
/// listening server (docs/reporting.md).
@Suite(.serialized) struct ReportingRouteTests {
    static let supervisorOID = UUID()

    /// A server whose Contoso tenant has a user supervisor (``supervisorOID``); `pageSize` rows per feed page.
    static func server(pageSize: Int = 1_000) async throws -> TestServer {
        let server = try await TestServer(
            configurationExtra: ", \"odata\": {\"pageSize\": \(pageSize), \"signingSecret\": "
                + "\"an OData page-link secret of 32+ bytes\"}")
        _ = try await server.server.handler.handle(
            CommandRequest(
                command: .assignRole(
                    tenant: server.world.tenant, principal: supervisorOID, role: .userSupervisor, ou: nil),
                actor: .systemAdmin, occurredAt: 1_794_787_400_000_000))
        try await server.server.readSide.catchUp()
        return server
    }

    static func error(_ response: LoopbackClient.Response) -> [String: Any] {
        response.json["error"] as? [String: Any] ?? [:]
    }

    static func rows(_ response: LoopbackClient.Response) -> [[String: Any]] {
        response.json["value"] as? [[String: Any]] ?? []
    }

    @Test func withoutATokenTheFeedAnswers401WithAnODataError() async throws {
        let server = try await Self.server()
        let response = await server.client.get("/odata/Users")
        #expect(response.status == 401)
        #expect(response.headers["odata-version"] == "4.0")
        #expect(response.headers["content-type"]?.hasPrefix("application/json") == true)
        #expect(response.headers["www-authenticate"]?.contains("Bearer") == true)
        #expect(Self.error(response)["code"] as? String == "Unauthorized")
        let bad = await server.client.get("/odata/", token: "not.a.token")
        #expect(bad.status == 401 && Self.error(bad)["code"] as? String == "Unauthorized")
        await server.stop()
    }

    @Test func guestsOtherTenantsAndNonReadersGet403() async throws {
        let server = try await Self.server()
        let guest = await server.client.get("/odata/Users", token: try await server.guest)
        #expect(guest.status == 403 && Self.error(guest)["code"] as? String == "Forbidden", "\(guest.body)")
        let other = await server.client.get(
            "/odata/UserStates",
            token: try await server.token(tid: server.world.otherAzureTenant, oid: Self.supervisorOID))
        #expect(other.status == 403 && other.headers["odata-version"] == "4.0", "\(other.body)")
        // docs/domain.md: a tenantAdmin reads state, audit and licences, not the user-state report.
        let admin = await server.client.get("/odata/Users", token: try await server.tenantAdmin)
        #expect(admin.status == 403 && (Self.error(admin)["message"] as? String)?.contains("supervisor") == true)
        let member = await server.client.get("/odata/Users", token: try await server.teamMember)
        #expect(member.status == 403)
        await server.stop()
    }

    @Test func aSupervisorReadsNamesAndThePartnerReadsPlaceholders() async throws {
        let server = try await Self.server()
        let supervisor = try await server.token(oid: Self.supervisorOID)
        let document = await server.client.get("/odata/", token: supervisor)
        #expect(document.status == 200 && document.headers["odata-version"] == "4.0")
        #expect((document.json["value"] as? [[String: Any]])?.count == 8)
        #expect(document.json["@odata.context"] as? String == "http://127.0.0.1:\(server.client.port)/odata/$metadata")
        let metadata = await server.client.get("/odata/$metadata", token: supervisor)
        #expect(metadata.status == 200 && metadata.headers["content-type"]?.hasPrefix("application/xml") == true)
        #expect(metadata.body.contains("<edmx:Edmx") && metadata.body.contains("EntitySet Name=\"UserStates\""))
        let users = await server.client.get("/odata/Users?$orderby=UserName", token: supervisor)
        #expect(users.status == 200)
        let names = Self.rows(users).compactMap { $0["UserName"] as? String }
        #expect(names == ["Adam Agent", "Olivia Owner"], "\(users.body)")
        let tenants = Self.rows(await server.client.get("/odata/Tenants", token: supervisor))
        #expect(tenants.compactMap { $0["Name"] as? String } == ["Contoso"], "only the supervisor's tenant")

        let partner = await server.client.get("/odata/Users?$orderby=UserName", token: try await server.partnerAdmin)
        #expect(partner.status == 200)
        let masked = Self.rows(partner).compactMap { $0["UserName"] as? String }
        #expect(masked.count == 2 && masked.allSatisfy { $0.allSatisfy { $0 == "*" } }, "\(partner.body)")
        #expect(!partner.body.contains("Adam") && !partner.body.contains("adam@contoso.com"))
        // Power BI's Basic credential: any user name, the token as the password.
        let basic = Data("powerbi:\(supervisor)".utf8).base64EncodedString()
        let viaBasic = await server.client.get("/odata/Users", headers: ["Authorization": "Basic \(basic)"])
        #expect(viaBasic.status == 200 && Self.rows(viaBasic).count == 2)
        let badBasic = await server.client.get("/odata/Users", headers: ["Authorization": "Basic %%%"])
        #expect(badBasic.status == 401)
        await server.stop()
    }

    @Test func badQueriesAre400Or404NamingWhatAndWhere() async throws {
        let server = try await Self.server()
        let supervisor = try await server.token(oid: Self.supervisorOID)
        let filter = await server.client.get(
            "/odata/Users?$filter=UserName%20eq%20'a'%20and%20Bogus%20eq%201", token: supervisor)
        #expect(filter.status == 400)
        #expect((Self.error(filter)["message"] as? String)?.contains("unknown property 'Bogus' at position 21") == true)
        let syntax = await server.client.get("/odata/Users?$filter=UserName%20eq", token: supervisor)
        #expect(syntax.status == 400 && (Self.error(syntax)["message"] as? String)?.contains("position") == true)
        let option = await server.client.get("/odata/Users?$expand=Services", token: supervisor)
        #expect(option.status == 400)
        let missing = await server.client.get("/odata/Nowhere", token: supervisor)
        #expect(missing.status == 404 && Self.error(missing)["code"] as? String == "NotFound")
        let keyed = await server.client.get("/odata/Users('x')", token: supervisor)
        #expect(keyed.status == 404)
        await server.stop()
    }

    @Test func pageLinksArePinnedAndATamperedOneIs400() async throws {
        let server = try await Self.server(pageSize: 1)
        let supervisor = try await server.token(oid: Self.supervisorOID)
        let first = await server.client.get("/odata/Users?$orderby=UserName&$count=true", token: supervisor)
        #expect(first.status == 200 && Self.rows(first).count == 1)
        #expect(first.json["@odata.count"] as? Int == 2)
        let next = try #require(first.json["@odata.nextLink"] as? String)
        let prefix = "http://127.0.0.1:\(server.client.port)"
        #expect(next.hasPrefix(prefix + "/odata/Users?"))
        let path = String(next.dropFirst(prefix.count))
        // The log grows between the pages: the second page still reads the point the first one pinned.
        _ = try await server.server.handler.handle(
            CommandRequest(
                command: .createUser(
                    tenant: server.world.tenant, user: UserID(UUID()), upn: "aaron@contoso.com",
                    displayName: "Aaron Early", ou: nil),
                actor: .systemAdmin, occurredAt: 1_794_787_500_000_000))
        try await server.server.readSide.catchUp()
        let second = await server.client.get(path, token: supervisor)
        #expect(second.status == 200 && second.json["@odata.nextLink"] == nil, "\(second.body)")
        #expect(Self.rows(second).compactMap { $0["UserName"] as? String } == ["Olivia Owner"])
        // A later first page follows the log: the new user shows up.
        let again = await server.client.get("/odata/Users?$orderby=UserName&$count=true", token: supervisor)
        #expect(again.json["@odata.count"] as? Int == 3)
        #expect(Self.rows(again).compactMap { $0["UserName"] as? String } == ["Aaron Early"])

        let token = try #require(path.split(separator: "$skiptoken=").last.map(String.init))
        var tampered = Array(token)
        tampered[2] = tampered[2] == "A" ? "B" : "A"
        let refused = await server.client.get(
            path.replacingOccurrences(of: token, with: String(tampered)), token: supervisor)
        #expect(refused.status == 400 && Self.error(refused)["code"] as? String == "BadSkipToken", "\(refused.body)")
        let foreign = await server.client.get(
            "/odata/Users?$orderby=UserName&$count=true&$skiptoken=abc.def", token: supervisor)
        #expect(foreign.status == 400 && Self.error(foreign)["code"] as? String == "BadSkipToken")
        await server.stop()
    }

    @Test func aPageLinkWhoseSnapshotIsNoLongerKeptIsAnsweredFromARebuild() async throws {
        let server = try await Self.server(pageSize: 1)
        let supervisor = try await server.token(oid: Self.supervisorOID)
        let first = await server.client.get("/odata/Users?$orderby=UserName", token: supervisor)
        let next = try #require(first.json["@odata.nextLink"] as? String)
        let path = String(next.dropFirst("http://127.0.0.1:\(server.client.port)".count))
        // The log moves on, and more paged queries than the feed keeps push the first one's snapshot out.
        _ = try await server.server.handler.handle(
            CommandRequest(
                command: .renameUser(user: server.world.owner, displayName: "Olivia Renamed"),
                actor: .systemAdmin, occurredAt: 1_794_787_500_000_000))
        try await server.server.readSide.catchUp()
        for top in 2...10 {
            let other = await server.client.get("/odata/Users?$orderby=UserName&$top=\(top)", token: supervisor)
            #expect(other.json["@odata.nextLink"] != nil)
        }
        let second = await server.client.get(path, token: supervisor)
        #expect(second.status == 200, "\(second.body)")
        #expect(Self.rows(second).compactMap { $0["UserName"] as? String } == ["Olivia Owner"], "as of the first page")
        await server.stop()
    }

    @Test func theODataSettingsAreChecked() {
        let base = #"{"issuer": "i", "audience": "a", "keys": [], "odata": "#
        for (section, message) in [
            (#"{"pageSize": 0}"#, "odata.pageSize"), (#"{"signingSecret": "short"}"#, "odata.signingSecret"),
            (#"{"baseURL": "ftp://x"}"#, "odata.baseURL"), (#"{"pagesize": 5}"#, "odata.pagesize"),
            (#"[]"#, "`odata` must be an object"),
        ] {
            #expect(throws: ServerConfigurationError.self) {
                try ServerConfiguration.parse(Data((base + section + "}").utf8))
            }
            do {
                _ = try ServerConfiguration.parse(Data((base + section + "}").utf8))
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
        let good = try? ServerConfiguration.parse(
            Data((base + #"{"pageSize": 7, "baseURL": "https://reports.example/odata"}}"#).utf8))
        #expect(good?.odata.pageSize == 7 && good?.odata.baseURL == "https://reports.example/odata/")
    }

    /// A misspelt setting anywhere is named, not taken as absent (no platform administrators, a default limit).
    @Test func unknownSettingsAreNamed() {
        let key = #"{"kid": "k", "alg": "HS256", "secret": "0123456789abcdef0123456789abcdef"}"#
        for (text, message) in [
            (
                #"{"issuer": "i", "audience": "a", "keys": [], "platformAdminGroup": ["g"]}"#,
                "`platformAdminGroup` is not a setting; the file takes listen, issuer"
            ),
            (
                #"{"issuer": "i", "audience": "a", "keys": [], "limits": {"maximumBodyByte": 5}}"#,
                "`limits.maximumBodyByte` is not a setting; `limits` takes maximumBodyBytes"
            ),
            (
                #"{"issuer": "i", "audience": "a", "keys": [{"kid": "k", "alg": "HS256", "secret": "0123456789abcdef0123456789abcdef", "secrets": "x"}]}"#,
                "`keys[0].secrets` is not a setting"
            ),
            (
                #"{"issuer": "i", "audience": "a", "keys": [], "tls": {"certificateChain": "c", "privateKey": "k", "ca": "x"}}"#,
                "`tls.ca` is not a setting"
            ),
        ] {
            do {
                _ = try ServerConfiguration.parse(Data(text.utf8))
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
        let good = try? ServerConfiguration.parse(
            Data(
                (#"{"issuer": "i", "audience": "a", "keys": ["# + key
                    + #"], "platformAdminGroups": ["g"], "limits": {"maximumBodyBytes": 5}, "leewaySeconds": 1}"#).utf8)
        )
        #expect(good?.limits.maximumBodyBytes == 5 && good?.platformAdminGroups == ["g"])
    }

    @Test func theDashboardIsServedWithItsContentTypes() async throws {
        let server = try await TestServer(seed: false)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Dashboard")
        for (path, file, type) in [
            ("/", "index.html", "text/html; charset=utf-8"),
            ("/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
            ("/dashboard.css", "dashboard.css", "text/css; charset=utf-8"),
        ] {
            let response = await server.client.get(path)
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == type)
            #expect(response.headers["x-content-type-options"] == "nosniff")
            // The embedded copy is the file (Tools/scripts/generate_dashboard_files.py regenerates it).
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            #expect(response.body == text, "\(file) differs from its embedded copy: run generate_dashboard_files.py")
        }
        await server.stop()
    }

    @Test func theLiveStateStreamTakesTheTokenInTheQueryAndSendsStateChanges() async throws {
        let server = try await Self.server()
        let supervisor = try await server.token(oid: Self.supervisorOID)
        let before = try await server.lastPosition()
        _ = try await server.server.handler.handle(
            CommandRequest(
                command: .recordPresence(user: server.world.agent, availability: .busy, activity: .inACall),
                actor: .presenceFeed(server.world.tenant), occurredAt: 1_794_787_600_000_000))
        let member = await server.client.get("/v1/states/live?access_token=\(try await server.teamMember)")
        #expect(member.status == 403)
        let bad = await server.client.get("/v1/states/live?access_token=nope")
        #expect(bad.status == 401 && !bad.body.contains("nope"))
        async let live = server.client.get("/v1/states/live?access_token=\(supervisor)&after=\(before)")
        try await Task.sleep(for: .seconds(2))
        await server.stop()
        let events = await live
        #expect(events.status == 200 && events.headers["content-type"] == "text/event-stream")
        #expect(
            events.body.contains(
                "data: {\"userId\":\"\(server.world.agent)\",\"availability\":\"Busy\",\"activity\":\"InACall\""),
            "\(events.body)")
        #expect(!events.body.contains("Adam"), "no names in the stream")
    }
}
