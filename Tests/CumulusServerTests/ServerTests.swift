import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import Foundation
import Hummingbird
import Logging
import Testing

@testable import CumulusServer

/// The server on a real loopback socket: every route, sign-in, the permission matrix, limits.
@Suite("cumulus serve over loopback")
struct ServerTests {
    static let at = "2026-11-20T08:00:00Z"

    @Test func operationalRoutes() async throws {
        let server = try await TestServer()
        defer { Task { await server.stop() } }
        let health = await server.client.get("/health")
        #expect(health.status == 200 && health.json["status"] as? String == "up")
        let ready = await server.client.get("/ready")
        #expect(ready.status == 200 && ready.json["ready"] as? Bool == true)
        #expect(ready.json["position"] as? Int == Int(try await server.lastPosition()))
        let openAPI = await server.client.get("/openapi.json")
        #expect(openAPI.status == 200 && openAPI.json["openapi"] as? String == "3.1.0")
        _ = await server.client.get("/v1/tenants", token: try await server.systemAdmin)
        let createOU =
            "{\"command\":\"createOU\",\"occurredAt\":\"\(Self.at)\",\"tenant\":\"\(server.world.tenant)\","
            + "\"parent\":\"\(server.world.root)\",\"name\":\"Metrics\"}"
        #expect(
            await server.client.post("/v1/commands", token: try await server.tenantAdmin, body: createOU).status == 201)
        #expect(
            await server.client.post("/v1/commands", token: try await server.teamMember, body: createOU).status == 403)
        let metrics = await server.client.get("/metrics")
        #expect(metrics.body.contains("cumulus_commands_total{outcome=\"accepted\",reason=\"\"} 1"), "\(metrics.body)")
        #expect(metrics.body.contains("cumulus_commands_total{outcome=\"refused\",reason=\"permission-denied\"} 1"))
        #expect(metrics.body.contains("cumulus_appended_events_total 2"))
        #expect(metrics.body.contains("cumulus_server_projection_lag_events 0"))
        #expect(metrics.status == 200)
        #expect(
            metrics.body.contains("cumulus_http_requests_total{route=\"/v1/tenants\",method=\"GET\",status=\"200\"}"))
        #expect(metrics.body.contains("cumulus_http_request_duration_seconds_bucket"))
        #expect(metrics.body.contains("cumulus_server_projection_lag_events"))
        let missing = await server.client.get("/nowhere")
        #expect(missing.status == 404 && missing.headers["content-type"] == "application/problem+json")
        await server.stop()
    }

    @Test func theOpenAPIDocumentDescribesEveryRoute() async throws {
        let server = try await TestServer(seed: false)
        let document = try #require(CumulusServer.openAPIDocument)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any])
        let paths = try #require(json["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, operations) in paths {
            for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
        }
        var served = Set<String>()
        for route in server.server.makeRouter().routes {
            let path = "\(route.path)".split(separator: "/").map { segment in
                segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
            }.joined(separator: "/")
            // The OData feed is described by its own $metadata (CSDL), not by the OpenAPI document.
            if path == "odata" || path.hasPrefix("odata/") { continue }
            served.insert("\(route.method) /\(path)")
        }
        #expect(
            served == documented,
            "served but not documented: \(served.subtracting(documented)); documented but not served: \(documented.subtracting(served))"
        )
        // The query parameters the server accepts under /v1/ are those the document lists, route by route.
        var listed: [String: Set<String>] = [:]
        for (path, operations) in paths where path.hasPrefix("/v1/") {
            for operation in operations.values {
                let parameters = (operation as? [String: Any])?["parameters"] as? [[String: Any]] ?? []
                listed[path, default: []].formUnion(
                    parameters.filter { $0["in"] as? String == "query" }.compactMap { $0["name"] as? String })
            }
        }
        let accepted = Dictionary(uniqueKeysWithValues: QueryString.routeParameters.map { ($0.path, Set($0.names)) })
        #expect(accepted == listed, "accepted: \(accepted); listed: \(listed)")
        await server.stop()
    }

    @Test func badTokensAreRefusedWith401() async throws {
        let server = try await TestServer()
        let valid = try await server.systemAdmin
        let parts = valid.split(separator: ".").map(String.init)
        func encode(_ json: String) -> String {
            Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let payload = String(decoding: try #require(Data(base64Encoded: parts[1].padded)), as: UTF8.self)
        let tampered = [
            parts[0], encode(payload.replacingOccurrences(of: "\"exp\":", with: "\"exp\":1")), parts[2],
        ]
        .joined(separator: ".")
        let none = [encode("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"test\"}"), parts[1], ""].joined(separator: ".")
        let unknownKid = [encode("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"other\"}"), parts[1], parts[2]]
            .joined(separator: ".")
        let rs256Confusion = [encode("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"test\"}"), parts[1], parts[2]]
            .joined(separator: ".")
        let cases: [(String, String?)] = [
            ("missing", nil),
            ("malformed", "not-a-jwt"),
            ("expired", try await server.token(groups: [server.world.platformGroup], expires: -3600)),
            ("not yet valid", try await server.token(groups: [server.world.platformGroup], notBefore: 3600)),
            ("wrong issuer", try await server.token(groups: [server.world.platformGroup], issuer: "https://evil")),
            ("wrong audience", try await server.token(groups: [server.world.platformGroup], audience: "api://other")),
            ("alg none", none),
            ("unknown kid", unknownKid),
            ("algorithm confusion", rs256Confusion),
            ("tampered", tampered),
        ]
        for (name, token) in cases {
            let response = await server.client.get("/v1/tenants", token: token)
            #expect(response.status == 401, "\(name): \(response.status) \(response.body)")
            #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer realm=\"cumulus\"") == true, "\(name)")
            #expect(response.headers["content-type"] == "application/problem+json", "\(name)")
            if let token, token.count > 8 { #expect(!response.body.contains(token), "\(name) echoes the token") }
        }
        // Within the leeway (60 s) an expired token still passes.
        let justExpired = try await server.token(groups: [server.world.platformGroup], expires: -30)
        #expect(await server.client.get("/v1/tenants", token: justExpired).status == 200)
        #expect(await server.client.get("/v1/tenants", token: valid).status == 200)
        await server.stop()
    }

    @Test func rs256TokensVerifyAgainstThePublicKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rsa-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = directory + "/key.pem"
        let generated = try await ChildRun.run("/usr/bin/openssl", ["genrsa", "-out", key, "2048"])
        try #require(generated == 0)
        let publicKey = directory + "/public.pem"
        try #require(
            try await ChildRun.run("/usr/bin/openssl", ["rsa", "-in", key, "-pubout", "-out", publicKey]) == 0)
        let privatePEM = try String(contentsOfFile: key, encoding: .utf8)
        let publicPEM = try String(contentsOfFile: publicKey, encoding: .utf8)
        let world = World()
        let keys =
            ",\"keys\": [{\"kid\":\"test\",\"alg\":\"HS256\",\"secret\":\"\(TestServer.secret)\"},"
            + "{\"kid\":\"aad\",\"alg\":\"RS256\",\"publicKeyPEM\":\(jsonString(publicPEM))}]"
        let server = try await TestServer(world: world, configurationExtra: keys)
        var signing = server.configuration
        signing.keys = [
            ServerConfiguration.Key(id: "aad", algorithm: .rs256, publicKeyPEM: publicPEM, privateKeyPEM: privatePEM)
        ]
        let now = Date().timeIntervalSince1970
        let claims = AzureClaims(
            issuer: "https://login.example/cumulus", audiences: ["api://cumulus"], expires: now + 600,
            tenantID: world.azureTenant.uuidString, objectID: UUID().uuidString,
            groups: [world.platformGroup.uuidString.lowercased()])
        let token = try await Authenticator(configuration: signing).issue(claims, keyID: "aad")
        #expect(await server.client.get("/v1/tenants", token: token).status == 200)
        var otherKey = signing
        try #require(try await ChildRun.run("/usr/bin/openssl", ["genrsa", "-out", key, "2048"]) == 0)
        otherKey.keys[0].privateKeyPEM = try String(contentsOfFile: key, encoding: .utf8)
        let forged = try await Authenticator(configuration: otherKey).issue(claims, keyID: "aad")
        #expect(await server.client.get("/v1/tenants", token: forged).status == 401)
        await server.stop()
    }

    /// Actor kinds × sample actions, allowed or refused as the permission matrix says.
    @Test func thePermissionMatrixOnEveryRequest() async throws {
        let server = try await TestServer()
        let world = server.world
        func command(_ name: String, _ fields: String) -> String {
            "{\"command\":\"\(name)\",\"occurredAt\":\"\(Self.at)\",\(fields)}"
        }
        let newOU = {
            command("createOU", "\"tenant\":\"\(world.tenant)\",\"parent\":\"\(world.root)\",\"name\":\"OU \(UUID())\"")
        }
        let cases: [(String, String, String, Int)] = [
            (
                "systemAdmin", try await server.systemAdmin,
                command("changeTenantState", "\"tenant\":\"\(world.tenant)\",\"state\":\"active\""), 201
            ),
            ("systemAdmin", try await server.systemAdmin, newOU(), 201),
            ("partnerAdmin", try await server.partnerAdmin, newOU(), 201),
            (
                "partnerAdmin", try await server.partnerAdmin,
                command("changeTenantState", "\"tenant\":\"\(world.tenant)\",\"state\":\"suspended\""), 403
            ),
            ("tenantAdmin", try await server.tenantAdmin, newOU(), 201),
            (
                "tenantAdmin", try await server.tenantAdmin,
                command("changeTenantState", "\"tenant\":\"\(world.tenant)\",\"state\":\"suspended\""), 403
            ),
            (
                "tenantAdmin", try await server.tenantAdmin,
                command("renameTenant", "\"tenant\":\"\(world.tenant)\",\"name\":\"X\""), 403
            ),
            (
                "teamOwner", try await server.teamOwner,
                command("changeDistributionSettings", "\"service\":\"\(world.service)\",\"deliverWhileBusy\":true"), 201
            ),
            ("teamOwner", try await server.teamOwner, newOU(), 403),
            (
                "teamMember", try await server.teamMember,
                command("changeDistributionSettings", "\"service\":\"\(world.service)\",\"deliverWhileAway\":true"), 403
            ),
            (
                "user themself", try await server.teamMember,
                command("changeUserState", "\"user\":\"\(world.agent)\",\"state\":\"Ready\""), 201
            ),
            (
                "teamOwner of the user's service", try await server.teamOwner,
                command("changeUserState", "\"user\":\"\(world.agent)\",\"state\":\"Lunch\""), 201
            ),
            (
                "presenceFeed", try await server.presenceFeed,
                command(
                    "recordPresence", "\"user\":\"\(world.agent)\",\"availability\":\"Busy\",\"activity\":\"InACall\""),
                201
            ),
            (
                "tenantAdmin", try await server.tenantAdmin,
                command(
                    "recordPresence", "\"user\":\"\(world.agent)\",\"availability\":\"Busy\",\"activity\":\"InACall\""),
                403
            ),
            ("guest", try await server.guest, newOU(), 403),
            (
                "other tenant's admin",
                try await server.token(tid: world.otherAzureTenant, groups: [world.tenantGroup]), newOU(), 403
            ),
        ]
        for (who, token, body, expected) in cases {
            let before = try await server.lastPosition()
            let response = await server.client.post("/v1/commands", token: token, body: body)
            #expect(response.status == expected, "\(who): \(body) → \(response.status) \(response.body)")
            if expected == 403 {
                #expect(response.json["type"] as? String == "https://cumulus.dev/problems/permission-denied", "\(who)")
                #expect(response.json["action"] is String && response.json["rule"] is String, "\(who)")
                #expect(try await server.lastPosition() == before, "\(who): a refused command appended")
            }
        }
        await server.stop()
    }

    @Test func idempotencyConflictsAndRuleRefusals() async throws {
        let server = try await TestServer()
        let world = server.world
        let admin = try await server.tenantAdmin
        let id = UUID().uuidString.lowercased()
        let body =
            "{\"command\":\"createOU\",\"occurredAt\":\"\(Self.at)\",\"eventId\":\"\(id)\",\"tenant\":\"\(world.tenant)\",\"parent\":\"\(world.root)\",\"name\":\"Support\"}"
        let first = await server.client.post("/v1/commands", token: admin, body: body)
        #expect(first.status == 201, "\(first.body)")
        let events = try #require(first.json["events"] as? [[String: Any]])
        let position = try #require(events.first?["firstPosition"] as? Int)
        let again = await server.client.post("/v1/commands", token: admin, body: body)
        #expect(again.status == 200 && again.json["outcome"] as? String == "alreadyStored")
        #expect(again.json["position"] as? Int == position)
        let otherContent = body.replacingOccurrences(of: Self.at, with: "2026-11-21T08:00:00Z")
        let conflict = await server.client.post("/v1/commands", token: admin, body: otherContent)
        #expect(conflict.status == 409 && conflict.json["field"] as? String == "eventId", "\(conflict.body)")
        // A rule: a name too long / a missing field / an unknown entity → 422 naming the field.
        let missing = await server.client.post(
            "/v1/commands", token: admin,
            body:
                "{\"command\":\"createOU\",\"occurredAt\":\"\(Self.at)\",\"tenant\":\"\(world.tenant)\",\"parent\":\"\(world.root)\"}"
        )
        #expect(missing.status == 422 && missing.json["field"] as? String == "name", "\(missing.body)")
        let actorGiven = await server.client.post(
            "/v1/commands", token: admin,
            body:
                "{\"command\":\"createOU\",\"actor\":\"systemAdmin\",\"occurredAt\":\"\(Self.at)\",\"tenant\":\"\(world.tenant)\",\"parent\":\"\(world.root)\",\"name\":\"X\"}"
        )
        #expect(actorGiven.status == 422 && actorGiven.json["field"] as? String == "actor")
        // A field the command does not have (here misspelt) is named, not taken as absent; nothing is appended.
        let before = await server.client.get("/v1/events/head", token: try await server.systemAdmin)
        let misspelt = await server.client.post(
            "/v1/commands", token: admin,
            body:
                "{\"command\":\"createOU\",\"occurredAt\":\"\(Self.at)\",\"tenant\":\"\(world.tenant)\",\"parent\":\"\(world.root)\",\"name\":\"X\",\"nmae\":\"Y\"}"
        )
        #expect(misspelt.status == 422 && misspelt.json["field"] as? String == "nmae", "\(misspelt.body)")
        #expect((misspelt.json["detail"] as? String) == "field `nmae` is not a field of `createOU`")
        let after = await server.client.get("/v1/events/head", token: try await server.systemAdmin)
        #expect(before.json["lastPosition"] as? Int == after.json["lastPosition"] as? Int && before.status == 200)
        let deletion = await server.client.post(
            "/v1/commands", token: try await server.systemAdmin,
            body:
                "{\"command\":\"requestTenantDeletion\",\"occurredAt\":\"\(Self.at)\",\"tenant\":\"\(world.tenant)\",\"confirmation\":\"yes\"}"
        )
        #expect(deletion.status == 422 && deletion.json["field"] as? String == "confirmation")
        let taken = await server.client.post(
            "/v1/commands", token: try await server.systemAdmin,
            body:
                "{\"command\":\"createTenant\",\"occurredAt\":\"\(Self.at)\",\"name\":\"Contoso\",\"o365Domain\":\"x.onmicrosoft.com\",\"azureTenantId\":\"\(UUID())\"}"
        )
        #expect(taken.status == 409 && taken.json["field"] as? String == "name", "\(taken.body)")
        await server.stop()
    }

    @Test func malformedBodiesWrongTypesAndSizes() async throws {
        let server = try await TestServer()
        let admin = try await server.tenantAdmin
        let before = try await server.lastPosition()
        let malformed = await server.client.post("/v1/commands", token: admin, body: "{\"command\": \"createOU\",, }")
        #expect(malformed.status == 400, "\(malformed.body)")
        #expect(malformed.json["type"] as? String == "https://cumulus.dev/problems/malformed-json")
        #expect(malformed.json["column"] is Int && malformed.json["line"] is Int, "\(malformed.body)")
        // What Foundation's parser refuses without a place — half a UTF-16 pair, a number no Double holds — is
        // named with its place too; a whole pair is a character like any other.
        for (body, column, detail) in [
            (#"{"name":"\ud800"}"#, 10, #"a UTF-16 high surrogate \uD800 not followed by a low one"#),
            (#"{"name":"a\udc00"}"#, 11, #"a lone UTF-16 low surrogate \uDC00 in a string"#),
            (#"{"name":"\ud800\u0041"}"#, 10, #"a UTF-16 high surrogate \uD800 not followed by a low one"#),
            (#"{"count":1e400}"#, 10, "the number 1e400 is out of range"),
        ] {
            let refused = await server.client.post("/v1/commands", token: admin, body: body)
            #expect(refused.status == 400 && refused.json["column"] as? Int == column, "\(body): \(refused.body)")
            #expect((refused.json["detail"] as? String)?.contains(detail) == true, "\(body): \(refused.body)")
        }
        let whole = await server.client.post(
            "/v1/commands", token: admin, body: #"{"name":"\ud83d\ude00","n":-1.5e300}"#)
        #expect(whole.status == 422 && whole.json["field"] as? String == "command", "\(whole.body)")
        let wrongType = await server.client.post("/v1/commands", token: admin, body: "{}", contentType: "text/plain")
        #expect(wrongType.status == 415)
        let huge = await server.client.post(
            "/v1/commands", token: admin, body: "{\"pad\":\"" + String(repeating: "x", count: 300_000) + "\"}")
        #expect(huge.status == 413, "\(huge.status)")
        let manyLines = String(repeating: "{}\n", count: 600)
        let tooMany = await server.client.post(
            "/v1/commands/batch", token: admin, body: manyLines, contentType: "application/x-ndjson")
        #expect(tooMany.status == 413)
        let wrongBatchType = await server.client.post("/v1/commands/batch", token: admin, body: "{}")
        #expect(wrongBatchType.status == 415)
        // JSON is UTF-8: another declared charset is a 415; bytes that are not UTF-8 a 400 naming their place
        // (never decoded with U+FFFD into a name the client did not send).
        let latin1 = await server.client.post(
            "/v1/commands", token: admin, body: "{}", contentType: "application/json; charset=iso-8859-1")
        #expect(latin1.status == 415 && (latin1.json["detail"] as? String)?.contains("charset=iso-8859-1") == true)
        let utf8 = await server.client.post(
            "/v1/commands", token: admin, body: "{}", contentType: "application/json; charset=\"UTF-8\"")
        #expect(utf8.status == 422, "\(utf8.body)")
        let rename = Array(
            #"{"command":"renameTenant","occurredAt":"\#(Self.at)","tenant":"\#(server.world.tenant)","#.utf8)
        let badName = await server.client.post(
            "/v1/commands", token: admin, bytes: rename + Array(#""name":"Con"#.utf8) + [0xFF] + Array(#"toso"}"#.utf8),
            contentType: "application/json")
        #expect(badName.status == 400 && badName.json["column"] as? Int == rename.count + 12, "\(badName.body)")
        #expect((badName.json["detail"] as? String)?.contains("the byte 0xFF") == true, "\(badName.body)")
        let longLine = "{\"pad\":\"" + String(repeating: "y", count: 70_000) + "\"}"
        let withLongLine = await server.client.post(
            "/v1/commands/batch", token: admin,
            body: "{\"command\":\"nope\",\"occurredAt\":\"\(Self.at)\"}\n" + longLine,
            contentType: "application/x-ndjson")
        #expect(withLongLine.status == 200 && withLongLine.lines.map { $0["status"] as? Int } == [422, 413])
        #expect(withLongLine.lines.last?["line"] as? Int == 2)
        #expect(try await server.lastPosition() == before)
        await server.stop()
    }

    @Test func batchesDecideInOrderPerLineOrAtomically() async throws {
        let server = try await TestServer()
        let world = server.world
        let feed = try await server.presenceFeed
        func presence(_ availability: String, user: UserID) -> String {
            "{\"command\":\"recordPresence\",\"occurredAt\":\"\(Self.at)\",\"user\":\"\(user)\",\"availability\":\"\(availability)\"}"
        }
        let lines = [
            presence("Busy", user: world.agent), "{not json", presence("Away", user: world.owner),
            "{\"command\":\"createOU\",\"occurredAt\":\"\(Self.at)\",\"tenant\":\"\(world.tenant)\",\"parent\":\"\(world.root)\",\"name\":\"N\"}",
            presence("Available", user: world.agent),
        ]
        let response = await server.client.post(
            "/v1/commands/batch", token: feed, body: lines.joined(separator: "\n"), contentType: "application/x-ndjson")
        #expect(response.status == 200, "\(response.body)")
        let results = response.lines
        #expect(results.map { $0["line"] as? Int } == [1, 2, 3, 4, 5])
        #expect(results.map { $0["status"] as? Int } == [201, 400, 201, 403, 201], "\(response.body)")
        let before = try await server.lastPosition()
        let atomic = await server.client.post(
            "/v1/commands/batch?atomic=true", token: feed,
            body: [presence("Busy", user: world.owner), lines[3]].joined(separator: "\n"),
            contentType: "application/x-ndjson")
        #expect(atomic.status == 422 && atomic.json["type"] as? String == "https://cumulus.dev/problems/batch-refused")
        #expect(try await server.lastPosition() == before, "an atomic batch with a refused line appended")
        let accepted = await server.client.post(
            "/v1/commands/batch?atomic=true", token: feed,
            body: [presence("Busy", user: world.owner), presence("Away", user: world.agent)].joined(separator: "\n"),
            contentType: "application/x-ndjson")
        #expect(accepted.status == 201 && accepted.json["accepted"] as? Int == 2, "\(accepted.body)")
        #expect(try await server.lastPosition() == before + 2)
        // A value of `atomic` that is not one of the four is refused before any line is decided.
        for value in ["yes", "TRUE", "2", ""] {
            let unclear = await server.client.post(
                "/v1/commands/batch?atomic=\(value)", token: feed, body: presence("Busy", user: world.owner),
                contentType: "application/x-ndjson")
            #expect(unclear.status == 400 && unclear.json["field"] as? String == "atomic", "\(value): \(unclear.body)")
        }
        #expect(try await server.lastPosition() == before + 2)
        // CRLF lines (PowerShell's) are lines; a line that is not UTF-8 is refused on its own, naming its column.
        let notUTF8 =
            Array(
                #"{"command":"recordPresence","occurredAt":"\#(Self.at)","user":"\#(world.agent)","availability":""#
                    .utf8)
            + [0xC3] + Array(#""}"#.utf8)
        let crlf = await server.client.post(
            "/v1/commands/batch", token: feed,
            bytes: Array((presence("DoNotDisturb", user: world.owner) + "\r\n\r\n").utf8) + notUTF8
                + Array(("\r\n" + presence("BeRightBack", user: world.agent) + "\r\n").utf8),
            contentType: "application/x-ndjson")
        #expect(crlf.status == 200, "\(crlf.body)")
        #expect(crlf.lines.map { $0["line"] as? Int } == [1, 3, 4], "\(crlf.body)")
        #expect(crlf.lines.map { $0["status"] as? Int } == [201, 400, 201], "\(crlf.body)")
        #expect(crlf.lines[1]["column"] as? Int == notUTF8.count - 2, "\(crlf.body)")
        #expect(try await server.lastPosition() == before + 4)
        await server.stop()
    }

    @Test func stateListsAuditAndAsOf() async throws {
        let server = try await TestServer()
        let world = server.world
        let admin = try await server.tenantAdmin
        let tenant = await server.client.get("/v1/tenants/\(world.tenant)", token: admin)
        #expect(tenant.status == 200 && tenant.body.contains("\"name\": \"Contoso\""), "\(tenant.body)")
        let user = await server.client.get("/v1/users/\(world.agent)", token: admin)
        #expect(user.status == 200 && user.body.contains("Adam Agent"))
        // The partner sees identifiers masked (the tenant does not allow them).
        let masked = await server.client.get("/v1/users/\(world.agent)", token: try await server.partnerAdmin)
        #expect(masked.status == 200 && !masked.body.contains("Adam Agent"), "\(masked.body)")
        #expect(await server.client.get("/v1/services/\(world.service)", token: admin).status == 200)
        #expect(await server.client.get("/v1/ous/\(world.sales)", token: admin).status == 200)
        #expect(await server.client.get("/v1/users/\(UUID())", token: admin).status == 404)
        #expect(await server.client.get("/v1/users/\(world.agent)", token: try await server.teamMember).status == 403)
        let other = await server.client.get(
            "/v1/tenants/\(world.tenant)",
            token: try await server.token(tid: world.otherAzureTenant, groups: [world.tenantGroup]))
        #expect(other.status == 403)
        let found = await server.client.get("/v1/users?name=adam", token: admin)
        let items = try #require(found.json["items"] as? [[String: Any]])
        #expect(items.count == 1 && items.first?["id"] as? String == world.agent.description)
        // A parameter the route does not read is refused, naming what it takes (a misspelt `asOf` would otherwise
        // answer with the current state as if it were the state asked for).
        let misspelt = await server.client.get("/v1/users/\(world.agent)?asof=1", token: admin)
        #expect(misspelt.status == 400 && misspelt.json["field"] as? String == "asof", "\(misspelt.body)")
        #expect(misspelt.json["detail"] as? String == "/v1/users/{id} has no query parameter `asof`; it takes `asOf`")
        let head = await server.client.get("/v1/events/head?tail=1", token: try await server.systemAdmin)
        #expect(head.status == 400 && (head.json["detail"] as? String)?.hasSuffix("it takes none") == true)
        let filter = await server.client.get("/v1/users?tenent=\(world.tenant)", token: admin)
        #expect(filter.status == 400 && filter.json["field"] as? String == "tenent", "\(filter.body)")
        // The filter is free text as a form or URLSearchParams sends it: `+` is a space, `%2B` a plus.
        let spaced = await server.client.get("/v1/users?name=adam+agent", token: admin)
        #expect((spaced.json["items"] as? [[String: Any]])?.count == 1, "\(spaced.body)")
        let plus = await server.client.get("/v1/users?name=adam%2Bagent", token: admin)
        #expect((plus.json["items"] as? [[String: Any]])?.isEmpty == true, "\(plus.body)")
        // Bytes a query may not hold: a 400 naming the parameter, before any route reads it.
        for (path, field, says) in [
            ("/v1/users?name=%FF", "name", "is not UTF-8 once decoded"),
            ("/v1/users?name=a%00b", "name", "holds the control character U+0000"),
            ("/v1/users?name=a%C2%85", "name", "holds the control character U+0085"),
            ("/v1/users?tenant=%ZZ", "tenant", "has a '%' not followed by two hex digits"),
            ("/v1/users?limit=1&li%FFmit=1", "parameter 2", "the name of query parameter 2 is not UTF-8"),
            ("/v1/reports/licences?tenant=\(world.tenant)&from=2026%0A", "from", "U+000A"),
        ] {
            let refused = await server.client.get(path, token: admin)
            #expect(refused.status == 400, "\(path): \(refused.body)")
            #expect(refused.json["field"] as? String == field, "\(path): \(refused.body)")
            #expect((refused.json["detail"] as? String)?.contains(says) == true, "\(path): \(refused.body)")
        }
        let page = await server.client.get("/v1/users?limit=1", token: admin)
        #expect(page.json["total"] as? Int == 2 && page.json["nextOffset"] as? Int == 1)
        #expect(await server.client.get("/v1/users?limit=0", token: admin).status == 400)
        let tenants = await server.client.get("/v1/tenants", token: try await server.systemAdmin)
        #expect(tenants.json["total"] as? Int == 2)
        let ous = await server.client.get("/v1/ous?tenant=\(world.tenant)&name=sal", token: admin)
        #expect((ous.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [world.sales.description])
        let services = await server.client.get("/v1/services", token: admin)
        #expect((services.json["items"] as? [[String: Any]])?.first?["name"] as? String == "Hotline")
        let guest = await server.client.get("/v1/services", token: try await server.guest)
        #expect(guest.status == 403 && guest.json["rule"] as? String == "guests have no access")
        let audit = await server.client.get("/v1/users/\(world.agent)/audit", token: admin)
        #expect(audit.status == 200 && audit.body.contains("MembershipAssigned"), "\(audit.body)")
        let auditorRead = await server.client.get("/v1/users/\(world.agent)/audit", token: try await server.auditor)
        #expect(auditorRead.status == 200)
        let asOf = await server.client.get("/v1/tenants/\(world.tenant)?asOf=1", token: admin)
        #expect(asOf.status == 200 && asOf.body.contains("\"state\": \"trial\""), "\(asOf.body)")
        #expect(await server.client.get("/v1/users/\(world.agent)?asOf=1", token: admin).status == 404)
        #expect(await server.client.get("/v1/tenants/\(world.tenant)?asOf=yesterday", token: admin).status == 400)
        // The log's last position is a view that never changes; a position past it is refused.
        let last = try await server.lastPosition()
        let atHead = await server.client.get("/v1/tenants/\(world.tenant)?asOf=\(last)", token: admin)
        #expect(atHead.status == 200, "\(atHead.body)")
        for path in [
            "/v1/tenants/\(world.tenant)?", "/v1/users/\(world.agent)/audit?",
            "/v1/reports/licences?tenant=\(world.tenant)&",
        ] {
            let beyond = await server.client.get("\(path)asOf=\(last + 1)", token: admin)
            #expect(beyond.status == 400 && beyond.json["field"] as? String == "asOf", "\(beyond.body)")
            let detail = beyond.json["detail"] as? String ?? ""
            #expect(detail.contains("asOf \(last + 1) is past the end of the log (its last position is \(last))"))
        }
        await server.stop()
    }

    @Test func theLogForSystemAdminsAndAuditors() async throws {
        let server = try await TestServer()
        let world = server.world
        let all = await server.client.get("/v1/events?after=0&limit=5", token: try await server.systemAdmin)
        #expect(all.status == 200 && all.lines.map { $0["position"] as? Int } == [1, 2, 3, 4, 5], "\(all.body)")
        let stream = await server.client.get(
            "/v1/events?stream=user-\(world.agent)", token: try await server.systemAdmin)
        #expect(stream.lines.count == 2 && stream.lines.allSatisfy { $0["stream"] as? String == "user-\(world.agent)" })
        let audited = await server.client.get("/v1/events", token: try await server.auditor)
        #expect(audited.status == 200 && !audited.lines.isEmpty)
        #expect(!audited.body.contains(world.otherTenant.description), "an auditor read another tenant's events")
        #expect(await server.client.get("/v1/events", token: try await server.tenantAdmin).status == 403)
        // The chain head, for an auditor to write down: the walk's own head, and the argument that checks it.
        let report = try await server.server.store.verify()
        let head = await server.client.get("/v1/events/head", token: try await server.auditor)
        #expect(head.status == 200 && head.json["lastPosition"] as? Int == Int(report.lastPosition.rawValue))
        #expect(head.json["chainLink"] as? String == report.headLink && report.headLink.count == 64, "\(head.body)")
        #expect(head.json["expectHead"] as? String == "\(report.lastPosition):\(report.headLink)")
        #expect(await server.client.get("/v1/events/head", token: try await server.systemAdmin).status == 200)
        let refused = await server.client.get("/v1/events/head", token: try await server.tenantAdmin)
        #expect(refused.status == 403 && refused.body.contains("readLog"), "\(refused.body)")
        #expect(await server.client.get("/v1/events/head").status == 401)
        // Live: resume after Last-Event-ID; the stream ends when the server shuts down.
        let last = try await server.lastPosition()
        let admin = try await server.systemAdmin
        // The stream is read until the event after Last-Event-ID has arrived (no fixed wait).
        let resumed = await server.client.stream(
            "/v1/events/live", token: admin, headers: ["Last-Event-ID": String(last - 1)], until: "id: \(last)\n")
        let opened = LoopbackClient.parse(Array(resumed.utf8))
        #expect(opened.status == 200 && opened.headers["content-type"] == "text/event-stream", "\(resumed)")
        #expect(resumed.contains("id: \(last)\n"), "\(resumed)")
        // A live one: an event appended while the stream is open arrives on it.
        let appended = Task {
            try await Task.sleep(for: .milliseconds(300))
            return await server.client.post(
                "/v1/commands", token: try await server.tenantAdmin,
                body:
                    "{\"command\":\"createOU\",\"occurredAt\":\"\(Self.at)\",\"tenant\":\"\(world.tenant)\",\"parent\":\"\(world.sales)\",\"name\":\"Live\"}"
            ).status
        }
        let live = await server.client.stream(
            "/v1/events/live", token: admin, headers: ["Last-Event-ID": String(last)], until: "id: \(last + 1)\n")
        #expect(try await appended.value == 201)
        #expect(live.contains("id: \(last + 1)\n") && live.contains("OUCreated"), "\(live)")
        await server.stop()
    }

    @Test func appendsByOthersShowUpAndCheckpointsAreSaved() async throws {
        let server = try await TestServer()
        let world = server.world
        let other = CommandHandler(store: server.server.store)
        let user = UserID(UUID())
        _ = try await other.handle(
            CommandRequest(
                command: .createUser(
                    tenant: world.tenant, user: user, upn: "nina@contoso.com", displayName: "Nina", ou: nil),
                actor: .systemAdmin, occurredAt: 1_794_787_300_000_000))
        var status = 0
        for _ in 0..<100 where status != 200 {
            status = await server.client.get("/v1/users/\(user)", token: try await server.tenantAdmin).status
            if status != 200 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(status == 200)
        await server.stop()
        // Stopping saved every projection's checkpoint at the end of the log.
        let reopened = try LMDBEventStore.open(directory: server.directory)
        let end = try await reopened.lastPosition()
        #expect(try await reopened.checkpoint(named: "current-state")?.position == end)
        #expect(try await reopened.checkpoint(named: "audit")?.position == end)
        reopened.close()
    }

    @Test func rolesAssignedInTheDomainBecomeActors() async throws {
        let server = try await TestServer()
        let world = server.world
        let admin = try await server.tenantAdmin
        let ouAdmin = UUID()
        let supervisor = UUID()
        func role(_ principal: UUID, _ role: String, ou: OUID?) -> String {
            "{\"command\":\"assignRole\",\"occurredAt\":\"\(Self.at)\",\"tenant\":\"\(world.tenant)\",\"principal\":\"\(principal)\",\"role\":\"\(role)\""
                + (ou.map { ",\"ou\":\"\($0)\"" } ?? "") + "}"
        }
        let ouAdminToken = try await server.token(oid: ouAdmin)
        let supervisorToken = try await server.token(oid: supervisor)
        let createBelowSales =
            "{\"command\":\"createOU\",\"occurredAt\":\"\(Self.at)\",\"tenant\":\"\(world.tenant)\",\"parent\":\"\(world.sales)\",\"name\":\"EMEA\"}"
        #expect(await server.client.post("/v1/commands", token: ouAdminToken, body: createBelowSales).status == 403)
        #expect(
            await server.client.post(
                "/v1/commands", token: admin, body: role(ouAdmin, "ouAdministrator", ou: world.sales)
            ).status == 201)
        #expect(
            await server.client.post("/v1/commands", token: admin, body: role(supervisor, "userSupervisor", ou: nil))
                .status == 201)
        #expect(await server.client.post("/v1/commands", token: ouAdminToken, body: createBelowSales).status == 201)
        #expect(
            await server.client.post("/v1/commands", token: ouAdminToken, body: role(UUID(), "userSupervisor", ou: nil))
                .status == 403)
        // The supervisor reads the user-state report; a tenant admin does not (the matrix's row).
        let report = await server.client.get("/v1/reports/user-states?tenant=\(world.tenant)", token: supervisorToken)
        #expect(report.status == 200 && report.json["rows"] is [Any], "\(report.body)")
        #expect(await server.client.get("/v1/reports/user-states?tenant=\(world.tenant)", token: admin).status == 403)
        let csv = await server.client.get(
            "/v1/reports/current-states?tenant=\(world.tenant)", token: supervisorToken, headers: ["Accept": "text/csv"]
        )
        #expect(csv.status == 200 && csv.body.hasPrefix("userId,userName,"), "\(csv.body)")
        let licences = await server.client.get("/v1/reports/licences?tenant=\(world.tenant)&limit=1", token: admin)
        #expect(
            licences.status == 200 && (licences.json["rows"] as? [Any])?.count == 1
                && licences.json["nextOffset"] is Int)
        #expect(
            await server.client.get("/v1/reports/time-in-state?tenant=\(world.tenant)", token: supervisorToken).status
                == 200)
        #expect(await server.client.get("/v1/reports/licences", token: admin).status == 400)
        // Time in state by interval: the users exist from 2026-11-16T00:00:1x; 2 hours of hourly rows, each user's
        // rows of one interval adding up to the part of the hour they existed.
        let hourly = await server.client.get(
            "/v1/reports/time-in-state?tenant=\(world.tenant)&interval=1h&from=2026-11-16T00:00:00Z&to=2026-11-16T02:00:00Z",
            token: supervisorToken)
        let rows = try #require(hourly.json["rows"] as? [[String: Any]], "\(hourly.body)")
        #expect(hourly.status == 200 && !rows.isEmpty, "\(hourly.body)")
        #expect(Set(rows.compactMap { $0["intervalStart"] as? String }).count == 2, "\(hourly.body)")
        // The interval rows and the user-state rows are cut to the page before they are written: pages of one,
        // laid end to end, are the whole report, with the same total; past the end (even at the largest offset)
        // no rows and no next page.
        for report in [
            "time-in-state?tenant=\(world.tenant)&interval=1h&from=2026-11-16T00:00:00Z&to=2026-11-16T02:00:00Z",
            "user-states?tenant=\(world.tenant)",
        ] {
            let whole = await server.client.get("/v1/reports/\(report)", token: supervisorToken)
            let all = try #require(whole.json["rows"] as? [[String: Any]], "\(whole.body)")
            let total = try #require(whole.json["total"] as? Int)
            #expect(total == all.count && total >= 2, "\(report): \(whole.body)")
            var joined: [[String: Any]] = []
            var offset: Int? = 0
            while let from = offset {
                let page = await server.client.get(
                    "/v1/reports/\(report)&limit=1&offset=\(from)", token: supervisorToken)
                joined += try #require(page.json["rows"] as? [[String: Any]], "\(page.body)")
                #expect(page.json["total"] as? Int == total, "\(page.body)")
                offset = page.json["nextOffset"] as? Int
            }
            #expect(
                try JSONSerialization.data(withJSONObject: joined, options: .sortedKeys)
                    == JSONSerialization.data(withJSONObject: all, options: .sortedKeys), "\(report)")
            let beyond = await server.client.get(
                "/v1/reports/\(report)&offset=\(Int.max)", token: supervisorToken)
            #expect((beyond.json["rows"] as? [Any])?.isEmpty == true, "\(beyond.body)")
            #expect(beyond.json["total"] as? Int == total && beyond.json["nextOffset"] is NSNull, "\(beyond.body)")
        }
        // A window of ten thousand years by quarter hours used to hold the server for minutes and gigabytes: now a
        // 400 beyond limits.maximumIntervalWindowDays (the test server's: 3 days), the same window without
        // intervals answered (its rows are one per user and state), and a window of the limit answered.
        /// `query` of time in state is a 400 naming `field` and saying `saying`.
        func refused(_ query: String, field: String, saying: String) async {
            let answer = await server.client.get(
                "/v1/reports/time-in-state?tenant=\(world.tenant)&\(query)", token: supervisorToken)
            #expect(answer.status == 400 && answer.json["field"] as? String == field, "\(query): \(answer.body)")
            #expect(answer.body.contains(saying), "\(query): \(answer.body)")
        }
        await refused(
            "interval=15m&from=0001-01-01T00:00:00Z&to=9999-12-31T00:00:00Z", field: "from", saying: "at most 3 days")
        let summed = await server.client.get(
            "/v1/reports/time-in-state?tenant=\(world.tenant)&from=0001-01-01T00:00:00Z&to=9999-12-31T00:00:00Z",
            token: supervisorToken)
        #expect(summed.status == 200, "\(summed.body)")
        let atTheLimit = await server.client.get(
            "/v1/reports/time-in-state?tenant=\(world.tenant)&interval=1d&from=2026-11-15T00:00:00Z&to=2026-11-18T00:00:00Z",
            token: supervisorToken)
        #expect(atTheLimit.status == 200 && (atTheLimit.json["rows"] as? [Any])?.isEmpty == false, "\(atTheLimit.body)")
        // The same window by quarter hours spans 2 users × 192 (user, interval) pairs: more than the test server's
        // limits.maximumIntervalRows (100), refused before any row is built.
        await refused(
            "interval=15m&from=2026-11-15T00:00:00Z&to=2026-11-18T00:00:00Z", field: "interval", saying: "at most 100")
        await refused("interval=2h", field: "interval", saying: "15m, 30m, 1h, 1d")
        #expect(
            await server.client.get("/v1/reports/licences?tenant=\(world.tenant)&interval=1h", token: admin).status
                == 400)
        let tenant = await server.client.get("/v1/tenants/\(world.tenant)", token: admin)
        #expect(tenant.body.contains(ouAdmin.uuidString.lowercased()), "the tenant's state lists its role assignments")
        await server.stop()
    }

    @Test func aSecondServerOnTheSameDirectoryIsRefused() async throws {
        let server = try await TestServer(seed: false)
        await #expect(throws: ServerStartFailure.self) {
            _ = try await CumulusServer.open(
                directory: server.directory, configuration: server.configuration, logger: .init(label: "second"))
        }
        await server.stop()
    }

    @Test func idleAndSlowClientsAreTimedOut() async throws {
        let server = try await TestServer(seed: false, timeouts: .short)
        let start = ContinuousClock.now
        // Half a request line, then nothing: the server closes the connection after its idle timeout (2 s).
        let answer = await LoopbackClient.exchange(
            port: server.client.port, Array("GET /health HT".utf8), readTimeout: 20)
        let waited = ContinuousClock.now - start
        #expect(answer.isEmpty || String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 4"))
        #expect(waited < .seconds(15), "the connection stayed open \(waited)")
        await server.stop()
    }

    @Test func aClientTricklingARequestIsCutOff() async throws {
        let server = try await TestServer(timeouts: .short)
        // A complete head, then the body a byte every 0.5 s: each body part resets the 2 s idle timeout, so only
        // the request timeout (3 s from the request's first byte) ends it. Without it the trickle runs the 20 s.
        let body = Array(repeating: UInt8(ascii: " "), count: 100)
        let head = Array(
            ("POST /v1/commands HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Authorization: Bearer \(try await server.tenantAdmin)\r\n"
                + "Content-Length: \(body.count)\r\n\r\n").utf8)
        let closedAfter = await LoopbackClient.trickle(
            port: server.client.port, prefix: head, body, every: .milliseconds(500), giveUpAfter: .seconds(20))
        let seconds = closedAfter.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        #expect(seconds != nil, "the server kept a trickling client connected for 20 s")
        #expect(
            (seconds ?? 0) >= 2.5 && (seconds ?? 0) < 10, "closed after \(seconds ?? 0) s, not at the request timeout")
        // A whole request on a fresh connection is still answered.
        #expect(await server.client.get("/health").status == 200)
        await server.stop()
    }
}

extension String {
    /// Base64url text padded for Foundation's decoder.
    var padded: String {
        var text = replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        return text
    }
}

func jsonString(_ text: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data()
    return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
}

enum ChildRun {
    static func run(_ path: String, _ arguments: [String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus
    }
}
