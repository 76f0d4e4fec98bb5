/// The workloads of issue 5. Each names its contenders and how its events are cut into rounds; the
/// coordinator runs round `k` of every contender, in rotating order, before round `k + 1`.
///
/// The seam for the rebuild workloads (P5/P6, once the projections exist): add a case here, its contenders
/// and rounds below, a method to ``ContenderStore`` for the work itself, and its goals in `Goals.swift`.
enum WorkloadID: String, Codable, CaseIterable, Sendable {
    case p1 = "P1"
    case p2 = "P2"
    case p3 = "P3"
    case p4 = "P4"
    case p7 = "P7"

    /// One line for the table.
    var title: String {
        switch self {
        case .p1: return "durable append, one writer, one event per commit"
        case .p2: return "durable appends from concurrent tasks, each awaiting its own ack"
        case .p3: return "durable bulk import over 100k streams in 10k-event commits"
        case .p4: return "warm full scan with envelope decode"
        case .p7: return "append -> visible to an in-process subscriber"
        }
    }

    /// Whether per-event latencies are measured.
    var hasLatency: Bool { self == .p1 || self == .p2 || self == .p7 }
}

/// Who does the work.
enum Contender: String, Codable, CaseIterable, Sendable {
    /// Raw LMDB through CLMDB, pre-encoded records, the same index writes as Cumulus.
    case limit
    /// Raw LMDB, pre-encoded records into the `events` database only (P3).
    case limitLogOnly = "limit-log-only"
    /// Cumulus through its public API.
    case cumulus
    /// SQLite through its C API.
    case peer

    /// The label in the table.
    var label: String {
        switch self {
        case .limit: return "limit (raw LMDB)"
        case .limitLogOnly: return "limit, log only (raw LMDB)"
        case .cumulus: return "Cumulus (public API)"
        case .peer: return "peer (SQLite WAL)"
        }
    }
}

/// Everything a worker needs to redo the coordinator's plan for one workload and one size.
struct WorkloadPlan: Codable, Sendable {
    /// Which workload.
    var workload: WorkloadID
    /// Events written (P1, P2, P3, P7) or stored and scanned (P4).
    var events: Int
    /// User streams the events are spread over.
    var streams: Int
    /// Events per round (P1, P2, P7) or per commit (P3).
    var batchSize: Int
    /// Concurrent appending tasks (P2).
    var tasks: Int
    /// Timed passes (P4).
    var passes: Int
    /// The P3 directory P4 scans (P4 reads what P3 wrote at the same size).
    var sourceDirectory: String?
    /// Runs only these contenders (for profiling one).
    var only: [Contender]?

    /// The contenders, in the order of the table.
    var contenders: [Contender] {
        let all: [Contender] = workload == .p3 ? [.limit, .limitLogOnly, .cumulus, .peer] : [.limit, .cumulus, .peer]
        guard let only else { return all }
        return all.filter { only.contains($0) }
    }

    /// The events of each round (for P4: the whole log, once per pass).
    var rounds: [Range<Int>] {
        if workload == .p4 { return Array(repeating: 0..<events, count: passes) }
        return stride(from: 0, to: events, by: max(1, batchSize)).map { $0..<min($0 + max(1, batchSize), events) }
    }
}

/// What a worker measured in one round.
struct RoundReport: Codable, Sendable {
    /// Events written or read.
    var events: Int
    /// Seconds of measured work (the limit's record encoding is not included).
    var seconds: Double
    /// Per-event latencies in microseconds, for the workloads that have them.
    var latencies: [Double]
}

/// What a worker reports when it is done: what it stored, read back, and its memory.
struct FinishReport: Codable, Sendable {
    /// Events read back from the contender's store, with their checksum.
    var tally: Tally
    /// Peak resident set (VmHWM) of the worker process up to its last round, bytes; includes the pages of
    /// memory-mapped files it touched (LMDB's data file), which are page cache, not heap.
    var peakRSS: Int
    /// The largest anonymous resident memory (RssAnon) seen after setup and after each round, bytes.
    var peakAnonymous: Int
}

/// A line the coordinator sends to a worker.
enum WorkerCommand: Codable, Sendable {
    case round(Int)
    case finish
}
