import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusProjections
import CumulusServer
import Foundation

/// The end of `cumulus demo`: serve the demo world. Gives the first tenant its two security groups and a
/// user supervisor (once), writes a configuration with a fresh HS256 key into the data directory (once),
/// prints the URL, a tenant admin's and a supervisor's token and two curl lines, and serves until Ctrl-C.
enum DemoServing {
    static let tenantAdminGroup = "7d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a"
    static let partnerAdminGroup = "8e2f3a4b-5c6d-4e7f-9a8b-0c1d2e3f4a5b"
    static let platformGroup = "9f3a4b5c-6d7e-4f8a-8b9c-1d2e3f4a5b6c"
    static let supervisor = "4d5e6f70-8192-4a3b-8c4d-5e6f708192a3"

    static func serve(directory: String, listen: String) async throws {
        let (tenant, azureTenant, user) = try await prepareWorld(directory: directory)
        let configurationPath = directory + "/demo-serve.json"
        if !FileManager.default.fileExists(atPath: configurationPath) {
            let secret = (0..<4).map { _ in UUID().uuidString.lowercased() }.joined()
            let text = """
                {"issuer": "https://login.example/cumulus-demo", "audience": "api://cumulus",
                 "platformAdminGroups": ["\(platformGroup)"],
                 "keys": [{"kid": "demo", "alg": "HS256", "secret": "\(secret)"}]}

                """
            guard
                FileManager.default.createFile(
                    atPath: configurationPath, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw CommandFailure("cannot write the demo's server configuration to \(configurationPath)")
            }
        }
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.load(path: configurationPath)
        } catch {
            throw CommandFailure(error.description)
        }
        let authenticator = try await Authenticator(configuration: configuration)
        let now = Date().timeIntervalSince1970.rounded(.down)
        func token(oid: String, groups: [String]) async throws -> String {
            try await authenticator.issue(
                AzureClaims(
                    issuer: configuration.issuers.first, audiences: [configuration.audiences.first ?? ""],
                    expires: now + 8 * 3600, notBefore: now, issuedAt: now, tenantID: azureTenant, objectID: oid,
                    groups: groups))
        }
        let admin = try await token(oid: UUID().uuidString.lowercased(), groups: [tenantAdminGroup])
        let supervisorToken = try await token(oid: supervisor, groups: [])
        try await CumulusServer.serve(directory: directory, configurationPath: configurationPath, listen: listen) {
            port in
            let url = "http://127.0.0.1:\(port)"
            print(
                """

                serving the demo world at \(url) (Ctrl-C stops; docs/serve.md lists the routes)
                tenant admin token (tenant \(tenant)):
                  ADMIN=\(admin)
                user supervisor token (same tenant):
                  SUPERVISOR=\(supervisorToken)
                supervisor dashboard (signs in with the supervisor token):
                  \(url)/#token=\(supervisorToken)
                try:
                  curl -s '\(url)/v1/users?tenant=\(tenant)&limit=3' -H "Authorization: Bearer $ADMIN"
                  curl -s '\(url)/v1/users/\(user)' -H "Authorization: Bearer $ADMIN"
                  curl -s '\(url)/odata/Users?$top=3' -H "Authorization: Bearer $SUPERVISOR"
                Power BI: Get data → OData feed → \(url)/odata/ → Basic, any user name, the supervisor token as password
                """)
            fflush(nil)
        }
    }

    /// Gives the first tenant its security groups and the supervisor role, once; returns the tenant, its
    /// Azure tenant id and one of its users.
    private static func prepareWorld(directory: String) async throws -> (TenantID, String, UserID) {
        let store = try LMDBEventStore.open(directory: directory)
        defer { store.close() }
        var set = ProjectionSet([CurrentStateProjection()])
        do {
            _ = try await ProjectionCatchUp.run(&set, from: store)
        } catch {
            throw CommandFailure(error.description)
        }
        guard let current = set.projection(CurrentStateProjection.self),
            let tenant = current.tenants.values.sorted(by: { $0.name < $1.name }).first,
            let user = current.users(in: tenant.id).first
        else { throw CommandFailure("the demo world has no tenant with users to serve") }
        let handler = CommandHandler(store: store)
        let at = Int64(Date().timeIntervalSince1970 * 1_000_000)
        var requests: [CommandRequest] = []
        if tenant.securityGroups.tenantAdminGroup == nil {
            requests.append(
                CommandRequest(
                    command: .changeSecurityGroups(
                        tenant: tenant.id, partnerAdminGroup: partnerAdminGroup, tenantAdminGroup: tenantAdminGroup),
                    actor: .systemAdmin, occurredAt: at))
        }
        if let principal = UUID(uuidString: supervisor),
            !tenant.roleAssignments.contains(where: { $0.principal == principal })
        {
            requests.append(
                CommandRequest(
                    command: .assignRole(tenant: tenant.id, principal: principal, role: .userSupervisor, ou: nil),
                    actor: .systemAdmin, occurredAt: at))
        }
        for request in requests {
            do {
                _ = try await handler.handle(request)
            } catch {
                throw CommandFailure("preparing the demo world for serving: \(error.description)")
            }
        }
        return (tenant.id, tenant.azureTenantID.uuidString.lowercased(), user.id)
    }
}
