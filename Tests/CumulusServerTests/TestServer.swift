import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusServer
import CumulusTesting
import Foundation
import Logging
import ServiceLifecycle

/// A small world and a real server on a free loopback port, run in-process in a `ServiceGroup`.
struct World {
    let tenant = TenantID(UUID())
    let azureTenant = UUID()
    let partner = PartnerID(UUID())
    let root = OUID(UUID())
    let sales = OUID(UUID())
    let service = ServiceID(UUID())
    let owner = UserID(UUID())
    let agent = UserID(UUID())
    let partnerGroup = UUID()
    let tenantGroup = UUID()
    let platformGroup = UUID()
    let otherTenant = TenantID(UUID())
    let otherAzureTenant = UUID()

    var setUp: [CommandRequest] {
        var time: Int64 = 1_794_787_200_000_000
        func at(_ command: Command) -> CommandRequest {
            time += 1_000_000
            return CommandRequest(command: command, actor: .systemAdmin, occurredAt: time)
        }
        var requests = [
            at(
                .createTenant(
                    tenant: tenant, name: "Contoso", o365Domain: "contoso.onmicrosoft.com",
                    azureTenantID: azureTenant.uuidString.lowercased(), partner: partner, rootOU: root,
                    rootOUName: "Contoso", widgetKey: UUID())),
            at(.changeTenantState(tenant: tenant, state: .active)),
            at(
                .changeSecurityGroups(
                    tenant: tenant, partnerAdminGroup: partnerGroup.uuidString.lowercased(),
                    tenantAdminGroup: tenantGroup.uuidString.lowercased())),
            at(.setPresenceTrackingPermission(tenant: tenant, granted: true)),
            at(
                .changePresenceTrackingSettings(
                    tenant: tenant, enabled: true, account1: "presence@contoso.onmicrosoft.com", account2: nil)),
            at(
                .changeDataPrivacySettings(
                    tenant: tenant,
                    settings: DataPrivacySettings(persistUserStatesInReporting: true, showTimeInState: true))),
            at(.setLicenceContingent(tenant: tenant, kind: .advancedRouting, contingent: 5)),
            at(.setLicenceContingent(tenant: tenant, kind: .contactCenterUser, contingent: 10)),
            at(.createOU(tenant: tenant, ou: sales, parent: root, name: "Sales")),
            at(
                .provisionService(
                    tenant: tenant, service: service, name: "Hotline", type: .advancedRouting, ou: sales,
                    source: .backend, owner: nil)),
            at(
                .createUser(
                    tenant: tenant, user: owner, upn: "olivia@contoso.com", displayName: "Olivia Owner", ou: sales)),
            at(.createUser(tenant: tenant, user: agent, upn: "adam@contoso.com", displayName: "Adam Agent", ou: sales)),
            at(.assignMembership(user: owner, service: service, role: .teamOwner)),
            at(.assignMembership(user: agent, service: service, role: .teamMember)),
            at(
                .createTenant(
                    tenant: otherTenant, name: "Fabrikam", o365Domain: "fabrikam.onmicrosoft.com",
                    azureTenantID: otherAzureTenant.uuidString.lowercased(), partner: nil, rootOU: OUID(UUID()),
                    rootOUName: "Fabrikam", widgetKey: UUID())),
        ]
        requests.append(at(.changeTenantState(tenant: otherTenant, state: .active)))
        return requests
    }
}

/// A running server for one test.
final class TestServer: Sendable {
    static let secret = "an HS256 test secret of at least thirty-two bytes"
    let directory: String
    let world: World
    let server: CumulusServer
    let client: LoopbackClient
    let configuration: ServerConfiguration
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// The idle and request timeouts of a test server, in seconds.
    ///
    /// The clocks count only time in which the server waits for the client (`ConnectionClocks`), not a stall of
    /// the server's tasks. They still depend on the event loop's timing, which the whole suite, run in parallel
    /// on two cores, can starve for seconds; so only the tests of the timeouts run with short ones. (Before the
    /// clocks paused while the server is not reading, CI saw `malformedBodiesWrongTypesAndSizes` get no answer to
    /// a 300 kB body under the 2 s/3 s timeouts every test used then.)
    struct Timeouts: Sendable {
        var idle: Double
        var request: Double

        /// Long enough that no stall of a loaded test machine reaches them.
        static let generous = Timeouts(idle: 60, request: 60)
        /// For the tests of the timeouts themselves.
        static let short = Timeouts(idle: 2, request: 3)
    }

    static func configuration(world: World, extra: String = "", timeouts: Timeouts = .generous) -> ServerConfiguration {
        let text = """
            {"issuer": "https://login.example/cumulus", "audience": "api://cumulus",
             "platformAdminGroups": ["\(world.platformGroup.uuidString.lowercased())"],
             "keys": [{"kid": "test", "alg": "HS256", "secret": "\(secret)"}],
             "listen": "127.0.0.1:0", "checkpointIntervalSeconds": 1,
             "limits": {"maximumBodyBytes": 200000, "maximumBatchLines": 500, "maximumIntervalWindowDays": 3, "maximumIntervalRows": 100,
                        "idleTimeoutSeconds": \(timeouts.idle), "requestTimeoutSeconds": \(timeouts.request)}\(extra)}
            """
        // The test's own configuration: a parse failure here is a test bug.
        return (try? ServerConfiguration.parse(Data(text.utf8))) ?? ServerConfiguration()
    }

    init(
        world: World = World(), seed: Bool = true, configurationExtra: String = "", timeouts: Timeouts = .generous
    ) async throws {
        self.world = world
        directory = TemporaryEventLog.makeDirectory(prefix: "cumulus-serve")
        configuration = Self.configuration(world: world, extra: configurationExtra, timeouts: timeouts)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let server = try await CumulusServer.open(directory: directory, configuration: configuration, logger: logger)
        if seed {
            for request in world.setUp {
                _ = try await server.handler.handle(request)
            }
            try await server.readSide.catchUp()
        }
        self.server = server
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = server.makeApplication { port in continuation.yield(port) }
        group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        let group = self.group
        running = Task { try await group.run() }
        var port = 0
        for await value in ports {
            port = value
            break
        }
        client = LoopbackClient(port: port)
    }

    /// The log's directory goes with the last reference to the server (a test may reopen it after ``stop()``).
    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Stops the server gracefully and closes the log.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        await server.shutDown()
    }

    func token(
        tid: UUID? = nil, oid: UUID = UUID(), groups: [UUID] = [], roles: [String] = [],
        issuer: String = "https://login.example/cumulus", audience: String = "api://cumulus",
        expires: Double = 3600, notBefore: Double = -10
    ) async throws -> String {
        let now = Date().timeIntervalSince1970
        let claims = AzureClaims(
            issuer: issuer, audiences: [audience], expires: now + expires, notBefore: now + notBefore, issuedAt: now,
            tenantID: (tid ?? world.azureTenant).uuidString.lowercased(), objectID: oid.uuidString.lowercased(),
            groups: groups.map { $0.uuidString.lowercased() }, roles: roles)
        return try await Authenticator(configuration: configuration).issue(claims)
    }

    var systemAdmin: String { get async throws { try await token(groups: [world.platformGroup]) } }
    var tenantAdmin: String { get async throws { try await token(groups: [world.tenantGroup]) } }
    var partnerAdmin: String { get async throws { try await token(tid: UUID(), groups: [world.partnerGroup]) } }
    var teamOwner: String { get async throws { try await token(oid: world.owner.uuid) } }
    var teamMember: String { get async throws { try await token(oid: world.agent.uuid) } }
    var presenceFeed: String { get async throws { try await token(roles: ["PresenceFeed"]) } }
    var auditor: String { get async throws { try await token(roles: ["Auditor"]) } }
    var guest: String { get async throws { try await token() } }

    func lastPosition() async throws -> UInt64 { try await server.store.lastPosition().rawValue }
}
