import Foundation
import Logging
import Metrics
import Prometheus

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension CumulusServer {
    /// What `cumulus serve --data-dir` runs: ``serve(store:configurationPath:listen:onRunning:)`` on an LMDB
    /// data directory.
    /// - Parameters:
    ///   - directory: the data directory.
    ///   - configurationPath: the configuration file.
    ///   - listen: `HOST:PORT`, overriding the file's `listen`.
    ///   - onRunning: called with the port once the server listens.
    public static func serve(
        directory: String, configurationPath: String, listen: String?,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        try await serve(store: directory, configurationPath: configurationPath, listen: listen, onRunning: onRunning)
    }

    /// What `cumulus serve` runs: bootstraps logging (JSON lines when standard error is not a terminal)
    /// and swift-metrics (onto the server's Prometheus registry), opens the log and serves until SIGTERM/SIGINT.
    /// - Parameters:
    ///   - store: an LMDB data directory or a `postgres://` URL (see ``open(store:configuration:logger:metrics:)``).
    ///   - configurationPath: the configuration file.
    ///   - listen: `HOST:PORT`, overriding the file's `listen`.
    ///   - onRunning: called with the port once the server listens.
    public static func serve(
        store: String, configurationPath: String, listen: String?,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        var configuration = try ServerConfiguration.load(path: configurationPath)
        if let listen {
            guard let (host, port) = ServerConfiguration.address(listen) else {
                throw ServerConfigurationError(path: "--listen", reason: "must be HOST:PORT, e.g. 127.0.0.1:8080")
            }
            configuration.host = host
            configuration.port = port
        }
        let json = isatty(2) != 1
        LoggingSystem.bootstrap { label -> any LogHandler in
            if json { return JSONLogHandler(label: label) }
            return StreamLogHandler.standardError(label: label)
        }
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        let logger = Logger(label: "cumulus")
        let server = try await CumulusServer.open(
            store: store, configuration: configuration, logger: logger, metrics: metrics)
        let host = configuration.host
        let scheme = configuration.scheme
        let place = server.place
        try await server.run { port in
            logger.info("listening", metadata: ["address": "\(scheme)://\(host):\(port)", "log": "\(place)"])
            await onRunning(port)
        }
    }
}
