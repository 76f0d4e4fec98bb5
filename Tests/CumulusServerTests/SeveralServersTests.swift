import CumulusLog
import CumulusPostgres
import CumulusTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The PostgreSQL server of these tests: `CUMULUS_POSTGRES_URL` (Tools/scripts/test.sh starts one). Without it
/// the suite is skipped locally with the reason printed, and fails on CI (`CI=true`), as the PostgreSQL suites do.
enum SharedLogServer {
    static let url = ProcessInfo.processInfo.environment["CUMULUS_POSTGRES_URL"]
    static let enabled = url != nil || ProcessInfo.processInfo.environment["CI"] == "true"
    static let skipReason = Comment(
        rawValue: "CUMULUS_POSTGRES_URL is not set: run Tools/scripts/test.sh, or start a server with "
            + "`eval \"$(bash Tools/scripts/postgres.sh start)\"`")

    struct Missing: Error, CustomStringConvertible {
        var description: String { "CUMULUS_POSTGRES_URL is not set but CI=true: the PostgreSQL tests must run on CI" }
    }

    /// A new, empty log in a schema of its own, created with `cumulus init --store` (a server never creates one).
    static func freshLog() async throws -> PostgresLocation {
        guard let url else { throw Missing() }
        var location = try PostgresLocation(url: url)
        location.schema = "srv_\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let initialised = try await ChildProcess.run("cumulus", ["init", "--store", location.url])
        #expect(initialised.status == 0, "\(initialised.error)")
        return location
    }
}

/// Several `cumulus serve --store postgres://…` processes on one log: domain invariants hold across them, each
/// follows the shared log, and one server at a time writes the shared checkpoints under a lease that passes on
/// when its holder is killed (docs/postgres.md, "Several servers, one log").
@Suite(
    "Several servers on one PostgreSQL log", .enabled(if: SharedLogServer.enabled, SharedLogServer.skipReason),
    .serialized)
struct SeveralServersTests {
    static let secret = "a several-servers test secret of at least thirty-two bytes"
    static let platformGroup = UUID().uuidString.lowercased()
    static let at = "2026-11-20T08:00:00Z"

    /// One running server.
    struct Server {
        let child: ChildProcess
        let client: LoopbackClient
        var name: String
    }

    /// A configuration file with a 1 s checkpoint interval.
    static func configuration() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cumulus-several-\(UUID()).json").path
        let text = """
            {"issuer": "https://login.example/several", "audience": "api://cumulus",
             "platformAdminGroups": ["\(platformGroup)"],
             "keys": [{"kid": "k", "alg": "HS256", "secret": "\(secret)"}], "checkpointIntervalSeconds": 1}
            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func start(_ name: String, _ location: PostgresLocation, configuration: String) async throws -> Server {
        let child = try ChildProcess(
            "cumulus", ["serve", "--store", location.url, "--config", configuration, "--listen", "127.0.0.1:0"])
        #expect(await child.waitForOutput(containing: "on port "), "\(name): \(child.standardError)")
        let port = child.standardOutput.split(separator: " ").last.flatMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(child.standardOutput.contains("serving \(location.description) on port"), "\(child.standardOutput)")
        return Server(child: child, client: LoopbackClient(port: port ?? 0), name: name)
    }

    static func token(
        _ configuration: String, tid: String = UUID().uuidString, groups: String = platformGroup
    ) async throws -> String {
        let issued = try await ChildProcess.run(
            "cumulus", ["token", "--config", configuration, "--tid", tid, "--groups", groups])
        #expect(issued.status == 0, "\(issued.error)")
        return issued.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Sends every body at once, each to its server, and returns (server index, status, problem type) per body.
    static func race(
        _ bodies: [(server: Int, body: String)], servers: [Server], token: String
    ) async -> [(server: Int, status: Int, type: String)] {
        await withTaskGroup(of: (Int, Int, Int, String).self) { group in
            for (index, entry) in bodies.enumerated() {
                let client = servers[entry.server].client
                group.addTask {
                    let response = await client.post("/v1/commands", token: token, body: entry.body)
                    return (index, entry.server, response.status, response.json["type"] as? String ?? "")
                }
            }
            var results = [(server: Int, status: Int, type: String)](repeating: (0, 0, ""), count: bodies.count)
            for await (index, server, status, type) in group { results[index] = (server, status, type) }
            return results
        }
    }

    /// Polls `body` on every server until it holds on all of them (or `timeout` seconds pass); the servers on which
    /// it never held.
    static func onEveryServer(
        _ servers: [Server], timeout: Double = 15, _ body: @escaping @Sendable (LoopbackClient) async -> Bool
    ) async -> [String] {
        var missing = servers.map(\.name)
        let deadline = Date().addingTimeInterval(timeout)
        while !missing.isEmpty && Date() < deadline {
            for server in servers where missing.contains(server.name) {
                if await body(server.client) { missing.removeAll { $0 == server.name } }
            }
            if !missing.isEmpty { try? await Task.sleep(for: .milliseconds(20)) }
        }
        return missing
    }

    /// `cumulus_server_checkpoint_writer` of a server (nil when it does not answer).
    static func writesCheckpoints(_ client: LoopbackClient) async -> Bool? {
        let response = await client.get("/metrics")
        guard response.status == 200 else { return nil }
        return response.body.split(separator: "\n").contains { $0 == "cumulus_server_checkpoint_writer 1.0" }
            || response.body.split(separator: "\n").contains { $0 == "cumulus_server_checkpoint_writer 1" }
    }

    /// The sum of `cumulus_command_retries` over the servers: decisions made again after losing a race for a stream.
    static func retries(_ servers: [Server]) async -> Double {
        var total = 0.0
        for server in servers {
            let metrics = await server.client.get("/metrics")
            for line in metrics.body.split(separator: "\n") where line.hasPrefix("cumulus_command_retries{") {
                total += line.split(separator: " ").last.flatMap { Double($0) } ?? 0
            }
        }
        return total
    }

    /// One round of the races on a new tenant: (a) six users, two on each server, race for the tenant's last
    /// licence; (b) six tenant creations, two on each server, race for one O365 domain; exactly one wins each, and
    /// (c) every server's views show the winners. Returns the tenant.
    static func raceRound(
        _ round: Int, servers: [Server], store: PostgresEventStore, token: String
    ) async throws -> String {
        // A tenant with one attendant-console licence and six users, set up across the servers.
        let tenant = UUID().uuidString.lowercased()
        let created = await servers[round % 3].client.post(
            "/v1/commands", token: token,
            body:
                #"{"command":"createTenant","occurredAt":"\#(at)","tenant":"\#(tenant)","name":"Shared \#(round)","o365Domain":"shared-\#(tenant.prefix(8)).onmicrosoft.com","azureTenantId":"\#(UUID())"}"#
        )
        #expect(created.status == 201, "\(created.body)")
        let contingent = await servers[(round + 1) % 3].client.post(
            "/v1/commands", token: token,
            body:
                #"{"command":"setLicenceContingent","occurredAt":"\#(at)","tenant":"\#(tenant)","kind":"attendantConsole","contingent":1}"#
        )
        // Each server decides on what the others appended a moment ago: its write model catches up before deciding.
        #expect(contingent.status == 201, "\(contingent.body)")
        let users = (0..<6).map { _ in UUID().uuidString.lowercased() }
        for (index, user) in users.enumerated() {
            let response = await servers[index % 3].client.post(
                "/v1/commands", token: token,
                body:
                    #"{"command":"createUser","occurredAt":"\#(at)","tenant":"\#(tenant)","user":"\#(user)","upn":"u\#(index)@shared.example","displayName":"User \#(index)"}"#
            )
            #expect(response.status == 201, "creating user \(index) on server \(index % 3): \(response.body)")
        }

        // (a) The tenant's last licence.
        let licenceRace = await race(
            users.enumerated().map { index, user in
                (
                    index % 3,
                    #"{"command":"assignUserLicence","occurredAt":"\#(at)","user":"\#(user)","kind":"attendantConsole"}"#
                )
            }, servers: servers, token: token)
        let licenceWinners = licenceRace.filter { $0.status == 201 }
        #expect(licenceWinners.count == 1, "\(licenceWinners.count) servers gave out the last licence: \(licenceRace)")
        for loser in licenceRace where loser.status != 201 {
            #expect(
                loser.status == 422 && loser.type.hasSuffix("/licence-exhausted"),
                "a loser of the licence race got \(loser.status) \(loser.type)")
        }
        let pool = try await store.read(stream: StreamName("licences-\(tenant)"))
        #expect(pool.filter { $0.type == "UserLicenceAssigned" }.count == 1)

        // (b) The same O365 domain.
        let domain = "race-\(tenant.prefix(8)).onmicrosoft.com"
        let domainRace = await race(
            (0..<6).map { index in
                (
                    index % 3,
                    #"{"command":"createTenant","occurredAt":"\#(at)","name":"Racer r\#(round)-\#(index)","o365Domain":"\#(domain)","azureTenantId":"\#(UUID())"}"#
                )
            }, servers: servers, token: token)
        let domainWinners = domainRace.filter { $0.status == 201 }
        #expect(domainWinners.count == 1, "\(domainWinners.count) tenants got \(domain): \(domainRace)")
        for loser in domainRace where loser.status != 201 {
            #expect(
                loser.status == 409
                    && (loser.type.hasSuffix("/uniqueness-conflict") || loser.type.hasSuffix("/lost-race")),
                "a loser of the domain race got \(loser.status) \(loser.type)")
        }

        // (c) Every server's views show both winners, whichever server appended them.
        let clock = ContinuousClock()
        let raceEnded = clock.now
        let behind = await onEveryServer(servers) { client in
            let report = await client.get("/v1/reports/licences?tenant=\(tenant)", token: token)
            let rows = report.json["rows"] as? [[String: Any]] ?? []
            return rows.contains { $0["kind"] as? String == "attendantConsole" && $0["used"] as? Int == 1 }
        }
        #expect(behind.isEmpty, "servers \(behind) do not show the licence given on \(licenceWinners)")
        let shown = clock.now - raceEnded
        let behindOnDomain = await onEveryServer(servers) { client in
            let found = await client.get("/v1/tenants?name=Racer%20r\(round)-", token: token)
            return found.status == 200 && found.json["total"] as? Int == 1
        }
        #expect(behindOnDomain.isEmpty, "servers \(behindOnDomain) do not list exactly one racing tenant")
        print(
            "several servers: round \(round): licence race \(licenceRace.map(\.status)) on servers "
                + "\(licenceRace.map(\.server)); domain race \(domainRace.map(\.status)); polling until every "
                + "server showed the licence took \(shown)")
        return tenant
    }

    @Test func aServerNeverCreatesAPostgresLog() async throws {
        guard let url = SharedLogServer.url else { throw SharedLogServer.Missing() }
        var location = try PostgresLocation(url: url)
        location.schema = "srv_missing_\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let configuration = try Self.configuration()
        defer { try? FileManager.default.removeItem(atPath: configuration) }
        let run = try await ChildProcess.run(
            "cumulus", ["serve", "--store", location.url, "--config", configuration, "--listen", "127.0.0.1:0"],
            timeout: 60)
        #expect(run.status == 1)
        #expect(run.error.contains("no Cumulus log at \(location.description)"), "\(run.error)")
        #expect(run.error.contains("cumulus init"), "\(run.error)")
        if let password = location.password { #expect(!run.error.contains(password)) }
        await #expect(throws: EventStoreError.self) { _ = try await PostgresEventStore.open(location) }
    }

    @Test func threeServersOnOneLogRaceFollowAndHandTheCheckpointLeaseOn() async throws {
        let location = try await SharedLogServer.freshLog()
        let configuration = try Self.configuration()
        defer { try? FileManager.default.removeItem(atPath: configuration) }
        var servers: [Server] = []
        defer { for server in servers where server.child.process.isRunning { server.child.kill() } }
        for name in ["A", "B", "C"] {
            servers.append(try await Self.start(name, location, configuration: configuration))
        }
        let token = try await Self.token(configuration)

        let store = try await PostgresEventStore.open(location)
        defer { store.close() }
        // Three rounds of both races, each on a new tenant and domain.
        var tenant = ""
        var retriesBefore = 0.0
        for round in 0..<3 {
            tenant = try await Self.raceRound(round, servers: servers, store: store, token: token)
            let retries = await Self.retries(servers)
            print("several servers: round \(round): \(retries - retriesBefore) decisions made again after a lost race")
            retriesBefore = retries
        }
        // A tenant admin whose tenant and group were set on server A a moment ago signs in on B and C at once: a
        // token that maps to no role is checked again after the views catch up, so it is not refused as a guest.
        let adminTenant = UUID().uuidString.lowercased()
        let azure = UUID().uuidString.lowercased()
        let adminGroup = UUID().uuidString.lowercased()
        let adminToken = try await Self.token(configuration, tid: azure, groups: adminGroup)
        let madeTenant = await servers[0].client.post(
            "/v1/commands", token: token,
            body:
                #"{"command":"createTenant","occurredAt":"\#(Self.at)","tenant":"\#(adminTenant)","name":"Admin","o365Domain":"admin-\#(adminTenant.prefix(8)).onmicrosoft.com","azureTenantId":"\#(azure)"}"#
        )
        let grouped = await servers[0].client.post(
            "/v1/commands", token: token,
            body:
                #"{"command":"changeSecurityGroups","occurredAt":"\#(Self.at)","tenant":"\#(adminTenant)","tenantAdminGroup":"\#(adminGroup)"}"#
        )
        #expect(madeTenant.status == 201 && grouped.status == 201, "\(madeTenant.body) \(grouped.body)")
        for other in servers[1...] {
            let seen = await other.client.get("/v1/tenants/\(adminTenant)", token: adminToken)
            #expect(seen.status == 200, "\(other.name): \(seen.status) \(seen.body)")
        }
        let end = try await store.lastPosition()
        let notReady = await Self.onEveryServer(servers) { client in
            let ready = await client.get("/ready")
            return ready.status == 200 && ready.json["position"] as? Int == Int(end.rawValue)
        }
        #expect(notReady.isEmpty, "servers \(notReady) are not at the log's end \(end)")

        // (d) One server at a time writes the shared checkpoints; they reach the end of the log.
        var holders: [Int] = []
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            var writing: [Int] = []
            for (index, server) in servers.enumerated() where await Self.writesCheckpoints(server.client) == true {
                writing.append(index)
            }
            #expect(writing.count <= 1, "servers \(writing) write the checkpoints at the same time")
            holders = writing
            let saved = try await store.checkpoint(named: "current-state")?.position
            if writing.count == 1 && saved == end { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(holders.count == 1, "no server took the checkpoint lease")
        #expect(try await store.checkpoint(named: "current-state")?.position == end)
        let holder = holders.first ?? 0
        // The lease is really held (by the server that says so): nobody else can take it now.
        let probe = try await store.tryLease("serve-checkpoints")
        #expect(probe == nil, "the checkpoint lease is free while server \(holder) says it holds it")
        await probe?.release()
        #expect(servers[holder].child.standardError.contains("took the checkpoint lease"))

        // Kill the holder (SIGKILL: no shutdown, no release); append through another server; the lease passes on
        // and the checkpoints follow the new events.
        servers[holder].child.kill()
        let survivors = servers.indices.filter { $0 != holder }.map { servers[$0] }
        let root = UUID().uuidString.lowercased()
        let later = await survivors[0].client.post(
            "/v1/commands", token: token,
            body:
                #"{"command":"createTenant","occurredAt":"\#(Self.at)","tenant":"\#(UUID())","rootOU":"\#(root)","name":"After the kill","o365Domain":"after-\#(tenant.prefix(8)).onmicrosoft.com","azureTenantId":"\#(UUID())"}"#
        )
        #expect(later.status == 201, "\(later.body)")
        let newEnd = try await store.lastPosition()
        var successor: Int?
        let takeOver = Date().addingTimeInterval(15)
        while Date() < takeOver {
            var writing: [Int] = []
            for (index, server) in survivors.enumerated() where await Self.writesCheckpoints(server.client) == true {
                writing.append(index)
            }
            #expect(writing.count <= 1, "survivors \(writing) write the checkpoints at the same time")
            let saved = try await store.checkpoint(named: "current-state")?.position
            let model = try await store.checkpoint(named: "write-model")?.position
            if writing.count == 1 && saved == newEnd && model == newEnd {
                successor = writing.first
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(successor != nil, "no survivor took the lease over and saved up to \(newEnd)")

        // A new server starts from the shared checkpoints alone (nothing left to apply) and answers exactly as a
        // survivor that applied every event live: nothing was applied twice or skipped.
        let fresh = try await Self.start("D", location, configuration: configuration)
        servers.append(fresh)
        let loaded = fresh.child.standardError.split(separator: "\n").first { $0.contains("projections loaded") }
        #expect(loaded?.contains("\"eventsApplied\":\"0\"") == true, "\(loaded ?? "no projections loaded line")")
        for path in ["/v1/tenants?limit=100", "/v1/users?limit=100", "/v1/reports/licences?tenant=\(tenant)"] {
            let live = await survivors[0].client.get(path, token: token)
            let restored = await fresh.client.get(path, token: token)
            #expect(live.status == 200 && restored.status == 200 && live.body == restored.body, "\(path)")
        }

        // Every survivor stops cleanly; no server printed the password of the URL.
        for server in survivors + [fresh] {
            kill(server.child.process.processIdentifier, SIGTERM)
            #expect(
                await server.child.wait(timeout: 30) == 0, "\(server.name): \(server.child.standardError.suffix(1500))")
        }
        for server in servers {
            if let password = location.password {
                #expect(
                    !server.child.standardError.contains(password) && !server.child.standardOutput.contains(password))
            }
            #expect(!server.child.standardError.contains(token))
        }
        #expect(try await store.verify(progress: nil).eventCount == newEnd.rawValue)
    }
}
