import Hummingbird
public import Prometheus

/// The server's Prometheus metrics, on its own registry (served at `/metrics`).
///
/// `cumulus_http_requests_total{route,status}`, `cumulus_http_request_duration_seconds{route}`,
/// `cumulus_commands_total{outcome,reason}`, `cumulus_appended_events_total`, `cumulus_server_projection_lag_events` (the live read side; the catch-up's own gauge is `cumulus_projection_lag_events{projection}`),
/// `cumulus_server_checkpoint_writer` (1 when this server writes the checkpoints).
public struct ServerMetrics: Sendable {
    /// The registry the metrics live in; `cumulus serve` also bootstraps swift-metrics onto it.
    public let registry: PrometheusCollectorRegistry
    private let appended: Counter
    private let lag: Gauge
    private let position: Gauge
    private let writer: Gauge

    /// Metrics on `registry`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        appended = registry.makeCounter(
            descriptor: .init(
                namespace: "cumulus", metricName: "appended_events", unitName: "total",
                helpText: "Events appended through this server"))
        lag = registry.makeGauge(
            descriptor: .init(
                namespace: "cumulus", subsystem: "server", metricName: "projection_lag", unitName: "events",
                helpText: "Events in the log the projections have not applied yet"))
        position = registry.makeGauge(
            descriptor: .init(
                namespace: "cumulus", subsystem: "server", metricName: "projection_position", unitName: "events",
                helpText: "The last log position the projections include"))
        writer = registry.makeGauge(
            descriptor: .init(
                namespace: "cumulus", subsystem: "server", metricName: "checkpoint", unitName: "writer",
                helpText: "1 when this server writes the log's checkpoints (on PostgreSQL: holds the checkpoint lease)")
        )
    }

    /// Counts one request.
    func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "cumulus", subsystem: "http", metricName: "requests", unitName: "total",
                helpText: "HTTP requests by route, method and status"),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "cumulus", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                helpText: "HTTP request latency by route"),
            labels: [("route", route), ("method", method)],
            buckets: Self.buckets
        ).record(duration)
    }

    /// Counts one command's outcome: `accepted`, `duplicate`, `unchanged` or `refused` (with a reason).
    func command(outcome: String, reason: String = "") {
        registry.makeCounter(
            descriptor: .init(
                namespace: "cumulus", metricName: "commands", unitName: "total",
                helpText: "Commands by outcome and refusal reason"),
            labels: [("outcome", outcome), ("reason", reason)]
        ).increment()
    }

    /// Counts appended events.
    func appended(_ count: Int) {
        if count > 0 { appended.increment(by: Int64(count)) }
    }

    /// Records the projections' distance from the end of the log.
    func projection(position: UInt64, end: UInt64) {
        self.position.set(Double(position))
        lag.set(Double(end > position ? end - position : 0))
    }

    /// Records whether this server writes the checkpoints.
    func checkpointWriter(_ writes: Bool) {
        writer.set(writes ? 1.0 : 0.0)
    }

    /// The exposition text.
    func exposition() -> String { registry.emitToString() }

    static let buckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]
}

/// Records every request's route (the matched pattern, never the path with ids), status and latency.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        let clock = ContinuousClock()
        let start = clock.now
        let response = try await next(request, context)
        metrics.request(
            route: context.endpointPath ?? "unmatched", method: request.method.rawValue,
            status: response.status.code, duration: clock.now - start)
        return response
    }
}
