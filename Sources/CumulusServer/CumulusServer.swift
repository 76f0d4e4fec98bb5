public import CumulusCommands
public import CumulusLMDB
public import CumulusLog
import CumulusProjections
import Foundation
public import Hummingbird
public import Logging
import NIOCore
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
/// One process serves a data directory at a time (a lock file refuses a second `serve`); other processes
/// (`cumulus import`) may append beside it and their events show up in the projections.
public struct CumulusServer: Sendable {
    /// The log.
    public let store: LMDBEventStore
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
    private let lock: DirectoryLock
    private var routeGroups: [@Sendable (RouterGroup<ServerContext>, CumulusServer) -> Void] = []

    /// Opens the data directory, takes the serve lock, loads the projections from their checkpoints and
    /// catches the write model up with the log.
    /// - Throws: ``ServerStartFailure`` saying what is wrong.
    public static func open(
        directory: String, configuration: ServerConfiguration, logger: Logger,
        metrics: ServerMetrics = ServerMetrics()
    ) async throws(ServerStartFailure) -> CumulusServer {
        let authenticator: Authenticator
        do {
            authenticator = try await Authenticator(configuration: configuration)
        } catch {
            throw .configuration(error.description)
        }
        // The log refuses a new directory that holds other files, so a new log is created before the lock file.
        var created: LMDBEventStore?
        if !FileManager.default.fileExists(atPath: directory + "/data.mdb") {
            do throws(EventStoreError) {
                created = try LMDBEventStore.open(directory: directory, options: .init(create: true))
            } catch {
                throw .storage(error.description)
            }
        }
        let lock: DirectoryLock
        do throws(ServerStartFailure) {
            lock = try DirectoryLock.acquire(directory: directory)
        } catch {
            created?.close()
            throw error
        }
        let store: LMDBEventStore
        do throws(EventStoreError) {
            if let created {
                store = created
            } else {
                store = try LMDBEventStore.open(directory: directory)
            }
        } catch {
            lock.release()
            throw .storage(error.description)
        }
        do {
            let readSide = try await ReadSide.load(store: store, logger: logger)
            let handler = CommandHandler(store: store, logger: logger)
            // The kept write model: its checkpoint plus what came after (a damaged or older one is rebuilt).
            let restored = try await handler.restoreCheckpoint()
            if restored.wasDiscarded { logger.notice("write model rebuilt", metadata: ["why": "\(restored)"]) }
            try await handler.catchUp()
            return CumulusServer(
                store: store, handler: handler, readSide: readSide, authenticator: authenticator,
                configuration: configuration, metrics: metrics, logger: logger, lock: lock)
        } catch {
            store.close()
            lock.release()
            throw .storage("\(error)")
        }
    }

    private init(
        store: LMDBEventStore, handler: CommandHandler, readSide: ReadSide, authenticator: Authenticator,
        configuration: ServerConfiguration, metrics: ServerMetrics, logger: Logger, lock: DirectoryLock
    ) {
        self.store = store
        self.handler = handler
        self.readSide = readSide
        self.authenticator = authenticator
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.lock = lock
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
        let caller = await readSide.read { set in
            Caller.resolve(
                claims, platformAdminGroups: groups,
                state: set.projection(CurrentStateProjection.self) ?? CurrentStateProjection())
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
    public func makeApplication(
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    )
        -> Application<RouterResponder<ServerContext>>
    {
        Application(
            router: makeRouter(),
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        RequestDeadlineHandler(
                            timeout: .nanoseconds(Int64(configuration.limits.requestTimeoutSeconds * 1e9)))
                    ],
                    idleTimeout: .nanoseconds(Int64(configuration.limits.idleTimeoutSeconds * 1e9)))),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "cumulus"),
            services: [FollowService(server: self), CheckpointService(server: self)],
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
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
            try await readSide.saveCheckpoints()
            _ = try await handler.saveCheckpoint()
        } catch {
            logger.error("saving checkpoints at shutdown failed", metadata: ["error": "\(error)"])
        }
        store.close()
        lock.release()
        logger.info("stopped; checkpoints saved, log closed")
    }

    /// Updates the projection-lag gauges.
    func recordLag() async {
        let end = (try? await store.lastPosition())?.rawValue ?? 0
        let position = await readSide.position.rawValue
        metrics.projection(position: position, end: end)
    }
}

/// Why the server could not start.
public enum ServerStartFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The configuration is unusable.
    case configuration(String)
    /// Another `cumulus serve` holds the directory.
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
        case .storage(let reason): "cannot open the data directory: \(reason)"
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
                        try await server.readSide.saveCheckpoints()
                        _ = try await server.handler.saveCheckpoint()
                    } catch {
                        server.logger.error("saving checkpoints failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }
}
