public import CumulusCommands
public import CumulusLog
import CumulusProjections
import Foundation
public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// The Cumulus backend: live state over HTTP with Azure AD sign-in and the permission matrix on every
/// request (docs/serve.md).
///
/// ```swift
/// var server = try await CumulusServer.open(directory: "data", configuration: configuration, logger: logger)
/// server.addRoutes { group, server in group.get("my/route") { _, _ in "…" } }  // routes of your own
/// try await server.run { port in print("listening on \(port)") }   // until SIGTERM/SIGINT
/// ```
///
/// The log is an LMDB data directory or a PostgreSQL log (``open(store:configuration:logger:metrics:)``).
/// One process serves a data directory at a time (a lock file refuses a second `serve`); any number of servers
/// may serve one PostgreSQL log (docs/postgres.md, "Several servers, one log"). Other processes
/// (`cumulus import`, other servers) may append beside it and their events show up in the projections.
public struct CumulusServer: Sendable {
    /// The log (LMDB or PostgreSQL).
    public let store: any EventStore
    /// Where the log lives, safe to print: the directory, or the PostgreSQL URL without its password.
    public let place: String
    /// Decides and appends commands (the one writer of this process).
    public let handler: CommandHandler
    /// The live projections every query reads.
    public let readSide: ReadSide
    /// Verifies bearer tokens.
    public let authenticator: Authenticator
    /// The configuration.
    public let configuration: ServerConfiguration
    /// The Prometheus metrics.
    public let metrics: ServerMetrics
    /// The logger.
    public let logger: Logger
    private let log: ServedLog
    /// HTTPS settings read from `configuration.tls`; nil for plain HTTP.
    private let tls: TLSConfiguration?
    private var routeGroups: [@Sendable (RouterGroup<ServerContext>, CumulusServer) -> Void] = []

    /// Opens the LMDB data directory (creating the log when missing), takes the serve lock, loads the
    /// projections from their checkpoints and catches the write model up with the log.
    /// - Throws: ``ServerStartFailure`` saying what is wrong.
    public static func open(
        directory: String, configuration: ServerConfiguration, logger: Logger,
        metrics: ServerMetrics = ServerMetrics()
    ) async throws(ServerStartFailure) -> CumulusServer {
        let authenticator = try await makeAuthenticator(configuration)
        let tls = try await ServerTLS.load(configuration.tls)
        let log = try ServedLog.openLMDB(directory: directory)
        return try await start(
            log, authenticator: authenticator, tls: tls, configuration: configuration, logger: logger,
            metrics: metrics)
    }

    /// Opens the log at `store` — a `postgres://` URL (the log must exist: `cumulus init --store URL`), else an
    /// LMDB data directory as ``open(directory:configuration:logger:metrics:)`` — loads the projections from their
    /// checkpoints and catches the write model up with the log.
    ///
    /// On PostgreSQL several servers may serve one log at once; the shared checkpoints are written by one of them
    /// at a time (the holder of the lease `serve-checkpoints`).
    /// - Throws: ``ServerStartFailure`` saying what is wrong (never quoting the URL's password).
    public static func open(
        store: String, configuration: ServerConfiguration, logger: Logger,
        metrics: ServerMetrics = ServerMetrics()
    ) async throws(ServerStartFailure) -> CumulusServer {
        let authenticator = try await makeAuthenticator(configuration)
        let tls = try await ServerTLS.load(configuration.tls)
        let log = try await ServedLog.open(store, logger: logger)
        return try await start(
            log, authenticator: authenticator, tls: tls, configuration: configuration, logger: logger,
            metrics: metrics)
    }

    private static func makeAuthenticator(
        _ configuration: ServerConfiguration
    ) async throws(ServerStartFailure) -> Authenticator {
        do {
            return try await Authenticator(configuration: configuration)
        } catch {
            throw .configuration(error.description)
        }
    }

    private static func start(
        _ log: ServedLog, authenticator: Authenticator, tls: TLSConfiguration?, configuration: ServerConfiguration,
        logger: Logger, metrics: ServerMetrics
    ) async throws(ServerStartFailure) -> CumulusServer {
        let store = log.store
        do {
            let readSide = try await ReadSide.load(store: store, logger: logger, checkpoints: log.checkpoints)
            let handler = CommandHandler(store: store, logger: logger)
            // The kept write model: its checkpoint plus what came after (a damaged or older one is rebuilt).
            let restored = try await handler.restoreCheckpoint()
            if restored.wasDiscarded { logger.notice("write model rebuilt", metadata: ["why": "\(restored)"]) }
            try await handler.catchUp()
            return CumulusServer(
                log: log, handler: handler, readSide: readSide, authenticator: authenticator, tls: tls,
                configuration: configuration, metrics: metrics, logger: logger)
        } catch {
            await log.close()
            throw .storage("\(error)")
        }
    }

    private init(
        log: ServedLog, handler: CommandHandler, readSide: ReadSide, authenticator: Authenticator,
        tls: TLSConfiguration?, configuration: ServerConfiguration, metrics: ServerMetrics, logger: Logger
    ) {
        self.tls = tls
        self.log = log
        self.store = log.store
        self.place = log.place
        self.handler = handler
        self.readSide = readSide
        self.authenticator = authenticator
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    /// Adds routes of another module (e.g. OData), registered on the root group with the server's context;
    /// the handlers may call ``authenticate(_:)`` and query ``readSide``.
    public mutating func addRoutes(_ register: @escaping @Sendable (RouterGroup<ServerContext>, CumulusServer) -> Void)
    {
        routeGroups.append(register)
    }

    /// The caller of a request, from its bearer token and the current state.
    /// - Throws: a 401 ``Problem`` for a bad or missing token (never quoting it); a 403 for a guest (a valid
    ///   token that maps to no role): guests may do nothing.
    public func authenticate(_ request: Request) async throws(Problem) -> Caller {
        let claims: AzureClaims
        do {
            claims = try await authenticator.authenticate(authorization: request.headers[.authorization])
        } catch {
            throw Problem.unauthorized(error.description)
        }
        let groups = configuration.platformAdminGroups
        let resolve = { @Sendable (set: ProjectionSet) -> Caller in
            Caller.resolve(
                claims, platformAdminGroups: groups,
                state: set.projection(CurrentStateProjection.self) ?? CurrentStateProjection())
        }
        var caller = await readSide.read(resolve)
        if caller.isGuest {
            // The tenant or role assignment that makes the caller someone may have just been appended, by this
            // server or another one on the same log, and not be in the views yet.
            if (try? await readSide.catchUp()) ?? 0 > 0 { caller = await readSide.read(resolve) }
        }
        if caller.isGuest {
            throw Problem.forbidden(
                action: "any", rule: "guests have no access",
                detail: "permission denied: the token maps to no Cumulus role (guest), so nothing may be done with it")
        }
        return caller
    }

    /// The router: the server's own routes, then the added route groups.
    public func makeRouter() -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.middlewares.add(MetricsMiddleware(metrics: metrics))
        router.middlewares.add(ProblemMiddleware())
        addOperationalRoutes(to: router)
        addCommandRoutes(to: router)
        addStateRoutes(to: router)
        addEventRoutes(to: router)
        addReportRoutes(to: router)
        addReportingRoutes(to: router)
        for register in routeGroups { register(router.group(), self) }
        return router
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, finishes requests in flight, saves the
    /// checkpoints and closes the log.
    /// - Parameter onRunning: called with the port once the server listens.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let application = makeApplication(onRunning: onRunning)
        let group = ServiceGroup(
            configuration: .init(
                services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
        }
        await shutDown()
        if let failure { throw failure }
    }

    /// The HTTP application with the log follower and the checkpoint saver as its services; run it in a
    /// `ServiceGroup` (``run(onRunning:)`` does, with the signal handlers) and call ``shutDown()`` after.
    ///
    /// Logs a warning when it will speak plain HTTP on an address other machines can reach.
    public func makeApplication(
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    )
        -> Application<RouterResponder<ServerContext>>
    {
        if configuration.tls == nil && !ServerConfiguration.isLoopback(configuration.host) {
            let warning =
                "plain HTTP on an address other machines can reach: bearer tokens and personal data cross the network "
                + "unencrypted; set `tls` in the configuration, or put a proxy that ends TLS in front"
            logger.warning("\(warning)", metadata: ["address": "http://\(configuration.host)"])
        }
        return Application(
            router: makeRouter(),
            server: ServerTLS.builder(configuration.limits, tls: tls),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "cumulus"),
            services: [FollowService(server: self), CheckpointService(server: self)],
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// The HTTP/1.1 channel of the server: the connection's idle and request clocks (``ConnectionClocks``)
    /// instead of Hummingbird's idle timeout, which also counts time in which the server itself is not reading.
    static func http1Configuration(_ limits: ServerConfiguration.Limits) -> HTTP1Channel.Configuration {
        .init(
            additionalChannelHandlers: [
                RequestPartsClockHandler(
                    idleTimeout: .nanoseconds(Int64(limits.idleTimeoutSeconds * 1e9)),
                    requestTimeout: .nanoseconds(Int64(limits.requestTimeoutSeconds * 1e9)))
            ],
            idleTimeout: nil)
    }

    /// Saves the checkpoints, closes the log and releases the lock (also for tests that run the router
    /// without ``run(onRunning:)``).
    public func shutDown() async {
        do {
            // Until the log stops moving (an append queued by a request that ended with the server lands first).
            for _ in 0..<50 {
                try await readSide.catchUp()
                let end = (try? await store.lastPosition()) ?? .start
                if await readSide.position >= end { break }
            }
            try await saveCheckpoints()
        } catch {
            logger.error("saving checkpoints at shutdown failed", metadata: ["error": "\(error)"])
        }
        await log.close()
        logger.info("stopped; checkpoints saved, log closed")
    }

    /// Saves the projections' and the write model's checkpoints — if this server writes them: always on LMDB;
    /// on PostgreSQL when it holds (or can take) the checkpoint lease.
    public func saveCheckpoints() async throws {
        // One lease attempt per call on a server that does not hold it (the read side asks again, cheaply).
        guard await log.checkpoints.isWriter() else { return }
        try await readSide.saveCheckpoints()
        try await handler.catchUp()
        let model = await handler.currentModel
        _ = try await log.checkpoints.write([model.checkpoint()])
    }

    /// Updates the projection-lag gauges.
    func recordLag() async {
        let end = (try? await store.lastPosition())?.rawValue ?? 0
        let position = await readSide.position.rawValue
        metrics.projection(position: position, end: end)
        metrics.checkpointWriter(await log.checkpoints.writesNow)
    }
}

/// Why the server could not start.
public enum ServerStartFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The configuration is unusable.
    case configuration(String)
    /// Another `cumulus serve` holds the LMDB data directory.
    case alreadyServed(directory: String, holder: String)
    /// The log or the projections could not be opened.
    case storage(String)

    /// What went wrong and what to do.
    public var description: String {
        switch self {
        case .configuration(let reason): "configuration: \(reason)"
        case .alreadyServed(let directory, let holder):
            "another `cumulus serve` (\(holder)) is serving \(directory): stop it first, or serve another "
                + "directory (one server per data directory; `cumulus import` may still append beside it)"
        case .storage(let reason): "cannot open the log: \(reason)"
        }
    }
}

/// Follows the log until shutdown.
struct FollowService: Service {
    let server: CumulusServer

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await server.readSide.follow()
        }
    }
}

/// Saves checkpoints every `checkpointIntervalSeconds` and updates the lag metric every second.
struct CheckpointService: Service {
    let server: CumulusServer

    func run() async throws {
        let interval = server.configuration.checkpointIntervalSeconds
        await cancelWhenGracefulShutdown {
            var sinceSave = 0.0
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .seconds(1))
                } catch {
                    return
                }
                await server.recordLag()
                sinceSave += 1
                if sinceSave >= interval {
                    sinceSave = 0
                    do {
                        try await server.saveCheckpoints()
                    } catch {
                        server.logger.error("saving checkpoints failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }
}
