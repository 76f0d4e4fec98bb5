import ArgumentParser
import CumulusPostgres
import CumulusServer
import Foundation

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the log over HTTP: commands, state, reports and the log, with Azure AD sign-in.",
        discussion: """
            The configuration file holds the token keys, issuer, audience and platform admin groups (docs/serve.md).
            Stops cleanly on SIGTERM or Ctrl-C: finishes requests in flight, saves checkpoints, closes the log.
            One server per LMDB data directory; several servers may serve one PostgreSQL log (--store postgres://…,
            created first with `cumulus init`; docs/postgres.md).
            """
    )

    @OptionGroup var data: DataDirectoryOptions

    @Option(help: "HOST:PORT to listen on (default: the configuration's `listen`, else 127.0.0.1:8080).")
    var listen: String?

    @Option(help: "The configuration file (JSON).")
    var config: String

    func run() async throws {
        try await reporting {
            let store = data.storeText
            let shown = PostgresLocation.isURL(store) ? ((try? PostgresLocation(url: store))?.description ?? "") : store
            try await CumulusServer.serve(store: store, configurationPath: config, listen: listen) { port in
                print("cumulus: serving \(shown) on port \(port)")
                fflush(nil)
            }
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Issue a signed test token (HS256 key of the configuration) with Azure AD claims.",
        discussion: "For tests and the demo; real callers get their tokens from Azure AD."
    )

    @Option(help: "The configuration file (JSON).")
    var config: String

    @Option(help: "The caller's Azure tenant id (tid).")
    var tid: String

    @Option(help: "The caller's object id (oid); a new one when absent.")
    var oid: String?

    @Option(help: "Comma-separated security-group object ids.")
    var groups: String = ""

    @Option(help: "Comma-separated app roles (PresenceFeed, ProvisioningScript, Auditor).")
    var roles: String = ""

    @Option(help: "The key id to sign with (default: the first HS256 key).")
    var kid: String?

    @Option(help: "Seconds the token stays valid.")
    var lifetime: Double = 3600

    func run() async throws {
        try await reporting {
            let configuration: ServerConfiguration
            do {
                configuration = try ServerConfiguration.load(path: config)
            } catch {
                throw CommandFailure("\(error)")
            }
            let now = Date().timeIntervalSince1970.rounded(.down)
            let claims = AzureClaims(
                issuer: configuration.issuers.first, audiences: [configuration.audiences.first ?? ""],
                expires: now + lifetime, notBefore: now, issuedAt: now, tenantID: tid,
                objectID: oid ?? UUID().uuidString.lowercased(),
                groups: groups.split(separator: ",").map(String.init),
                roles: roles.split(separator: ",").map(String.init))
            do {
                let authenticator = try await Authenticator(configuration: configuration)
                print(try await authenticator.issue(claims, keyID: kid))
            } catch {
                throw CommandFailure("cannot issue a token: \(error)")
            }
        }
    }
}
