import CoreMetrics

/// What the log reports through swift-metrics; made once per directory and process, from the factory the
/// first handle was opened with (``LMDBEventStore/open(directory:options:logger:metricsFactory:)``).
///
/// Nothing is reported unless the embedder bootstraps a metrics backend or passes a factory. No label or
/// dimension carries a stream name, an id or a payload.
struct StoreMetrics: Sendable {
    /// Events written (idempotent retries that wrote nothing do not count).
    let appendedEvents: Counter
    /// Group commits that succeeded.
    let commits: Counter
    /// Group commits that failed as a whole (storage errors; every request of the group got the error).
    let failedCommits: Counter
    /// How long a group commit took, from the start of its write transaction to the end of its commit.
    let commitLatency: Timer
    /// How many requests (appends, checkpoints) one group commit carried.
    let groupRequests: Recorder
    /// How many events one group commit carried.
    let groupEvents: Recorder
    /// The memory-map size in bytes.
    let mapSize: Gauge

    init(factory: any MetricsFactory) {
        appendedEvents = Counter(label: "cumulus_store_appended_events", factory: factory)
        commits = Counter(label: "cumulus_store_commits", factory: factory)
        failedCommits = Counter(label: "cumulus_store_failed_commits", factory: factory)
        commitLatency = Timer(label: "cumulus_store_commit_duration", factory: factory)
        groupRequests = Recorder(label: "cumulus_store_group_requests", factory: factory)
        groupEvents = Recorder(label: "cumulus_store_group_events", factory: factory)
        mapSize = Gauge(label: "cumulus_store_map_size_bytes", factory: factory)
    }
}
