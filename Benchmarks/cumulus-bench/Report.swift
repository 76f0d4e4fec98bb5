import Foundation

/// Where and when a run happened.
struct Machine: Codable, Sendable {
    /// `nproc`.
    var processors: Int
    /// `model name` from /proc/cpuinfo.
    var model: String
    /// Physical memory, bytes.
    var memoryBytes: UInt64
    /// ISO 8601 date of the run.
    var date: String
    /// `release` or `debug`.
    var build: String

    static func current() -> Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        return Machine(
            processors: ProcessInfo.processInfo.activeProcessorCount,
            model: model,
            memoryBytes: ProcessInfo.processInfo.physicalMemory,
            date: ISO8601DateFormatter().string(from: Date()),
            build: build
        )
    }

    /// One line for the report.
    var summary: String {
        "\(processors) cores (nproc), \(model), \(memoryBytes >> 30) GiB, \(build) build, \(date)"
    }
}

/// One goal of issue 5, checked against this run.
struct GoalCheck: Codable, Sendable {
    /// The workload, e.g. `P2`.
    var workload: String
    /// What is compared, e.g. `Cumulus/peer events/s`.
    var measure: String
    /// The measured value.
    var measured: Double
    /// The goal.
    var target: Double
    /// True when a smaller value is better (latency, drop).
    var lowerIsBetter: Bool
    /// Whether the goal is met.
    var met: Bool { lowerIsBetter ? measured <= target : measured >= target }

    /// "met" or how far off.
    var verdict: String {
        if met { return "met" }
        guard measured > 0 else { return "MISSED" }
        let factor = lowerIsBetter ? measured / target : target / measured
        return String(format: "MISSED by %.2f× (%.0f%% of the goal)", factor, 100 / factor)
    }
}

/// Everything a run produced; written as JSON.
struct BenchReport: Codable, Sendable {
    /// Where it ran.
    var machine: Machine
    /// The options it ran with.
    var options: Options
    /// Every workload at every size.
    var results: [WorkloadResult]
    /// The goals of the issue.
    var goals: [GoalCheck]
    /// P3 Cumulus throughput drop from the smallest to the largest size, percent (with `--scale`).
    var p3DropPercent: Double?
}

/// Text output: Markdown tables, so the same text reads in a terminal and pastes into the README.
enum ReportPrinter {
    static let contenderNotes = """
        Contenders (same generated events, rounds alternate between them; each runs in its own child process,
        `cumulus-bench worker`, so peak RSS is its own: VmHWM of that process, which counts the pages of a
        memory-mapped file it touched, and the largest RssAnon — heap — seen after each round):
        - limit (raw LMDB): the same work written directly against CLMDB. DOES store the exact record bytes
          Cumulus stores (pre-encoded with RecordCodec.encode, hash chain included, before the clock starts),
          keyed by big-endian position with MDB_APPEND; put each event id into eventIDs; write each touched
          stream head once per transaction in name order; commit with LMDB's default two-flush durable sync.
          DOES NOT read inside the transaction (last position, chain head, stream heads, idempotency lookups),
          hash or validate while timed, write the meta chain head/txn stamp, or cross threads. P2's limit is
          P1's: one writer, one event per commit, sequential. P4's limit walks a cursor and reads the fixed
          header fields only. P7's limit signals a subscriber thread with a condition variable after commit.
        - limit, log only (P3): the records alone, with MDB_APPEND, no index.
        - Cumulus: the public API with .full durability — append(_:to:expecting: .any) per event (P1, P2 from
          N tasks, P7), append(atomically:) one StreamAppend per stream per 10k-event commit (P3),
          scan(after:maximumCount:) decoding full RecordedEvents (P4), subscribe(after:) (P7).
        - peer (SQLite WAL, synchronous=FULL, cache_size 64 MiB): events(position INTEGER PRIMARY KEY,
          stream TEXT, version INTEGER, payload BLOB, UNIQUE(stream, version)); each append is one prepared
          INSERT … SELECT coalesce(max(version),0)+1 … WHERE stream=?; autocommit per event, BEGIN IMMEDIATE …
          COMMIT per batch; P2's tasks share one connection under a lock; P4 is SELECT all with column reads;
          P7's subscriber is a second connection on a thread woken after commit. It stores no envelope, no
          id index and no hash chain.
        """

    static func table(_ result: WorkloadResult) -> String {
        let plan = result.plan
        var header =
            "### \(plan.workload.rawValue) — \(plan.workload.title): \(grouped(plan.events)) events, "
            + "\(grouped(plan.streams)) streams"
        switch plan.workload {
        case .p2: header += ", \(plan.tasks) tasks"
        case .p3: header += ", \(grouped(plan.batchSize)) events per commit"
        case .p4: header += ", \(plan.passes) timed warm passes after an untimed one"
        default: break
        }
        var lines = [
            header, "",
            "| contender | events/s | p50 µs | p99 µs | peak RSS MiB | heap MiB | Cumulus/limit | Cumulus/peer |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for contender in result.contenders {
            let isCumulus = contender.contender == .cumulus
            lines.append(
                "| \(contender.contender.label) | \(grouped(Int(contender.eventsPerSecond.rounded()))) | "
                    + "\(latency(contender.p50Microseconds)) | \(latency(contender.p99Microseconds)) | "
                    + "\(mebibytes(contender.peakRSSBytes)) | \(mebibytes(contender.peakAnonymousBytes)) | "
                    + "\(isCumulus ? ratio(result.ratio(.cumulus, .limit)) : "") | "
                    + "\(isCumulus ? ratio(result.ratio(.cumulus, .peer)) : "") |")
        }
        if plan.workload == .p3 {
            lines.append("")
            lines.append("Cumulus / limit log-only: \(ratio(result.ratio(.cumulus, .limitLogOnly)))")
        }
        return lines.joined(separator: "\n")
    }

    static func p2OverP1(_ p1: WorkloadResult, _ p2: WorkloadResult) -> String {
        let parts = [Contender.limit, .cumulus, .peer].map { contender -> String in
            guard let one = p1.result(contender)?.eventsPerSecond, let many = p2.result(contender)?.eventsPerSecond,
                one > 0
            else { return "\(contender.rawValue) –" }
            return "\(contender.rawValue) \(String(format: "%.2f", many / one))"
        }
        return "P2/P1 (events/s at \(p2.plan.tasks) tasks over one writer): " + parts.joined(separator: ", ")
    }

    static func curve(_ results: [WorkloadResult]) -> String {
        let p3 = results.filter { $0.plan.workload == .p3 }
        let p4 = results.filter { $0.plan.workload == .p4 }
        var lines = [
            "### Cost growth (events/s by log size)", "",
            "| events | P3 limit | P3 log-only | P3 Cumulus | P3 peer | P4 limit | P4 Cumulus | P4 peer |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for result in p3 {
            let scan = p4.first { $0.plan.events == result.plan.events }
            let cells =
                [Contender.limit, .limitLogOnly, .cumulus, .peer].map { rate(result.result($0)) }
                + [Contender.limit, .cumulus, .peer].map { rate(scan?.result($0)) }
            lines.append("| \(grouped(result.plan.events)) | " + cells.joined(separator: " | ") + " |")
        }
        if let drop = p3Drop(results) {
            lines.append("")
            lines.append(String(format: "P3 Cumulus throughput drop from smallest to largest size: %.1f%%", drop))
        }
        return lines.joined(separator: "\n")
    }

    static func p3Drop(_ results: [WorkloadResult]) -> Double? {
        let p3 = results.filter { $0.plan.workload == .p3 }.sorted { $0.plan.events < $1.plan.events }
        guard p3.count > 1, let first = p3.first?.result(.cumulus)?.eventsPerSecond,
            let last = p3.last?.result(.cumulus)?.eventsPerSecond, first > 0
        else { return nil }
        return (1 - last / first) * 100
    }

    static func goals(_ results: [WorkloadResult]) -> [GoalCheck] {
        func latest(_ workload: WorkloadID) -> WorkloadResult? {
            results.filter { $0.plan.workload == workload }.max { $0.plan.events < $1.plan.events }
        }
        var checks: [GoalCheck] = []
        func add(_ workload: String, _ measure: String, _ value: Double?, _ target: Double, lower: Bool = false) {
            guard let value else { return }
            checks.append(
                GoalCheck(workload: workload, measure: measure, measured: value, target: target, lowerIsBetter: lower))
        }
        let p1 = latest(.p1)
        let p2 = latest(.p2)
        add("P1", "Cumulus/limit events/s", p1?.ratio(.cumulus, .limit), 0.8)
        if let p1, let p2, let one = p1.result(.cumulus)?.eventsPerSecond, one > 0 {
            add("P2", "Cumulus P2/P1 events/s", p2.result(.cumulus).map { $0.eventsPerSecond / one }, 10)
        }
        add("P2", "Cumulus/peer events/s", p2?.ratio(.cumulus, .peer), 5)
        add("P3", "Cumulus/peer events/s", latest(.p3)?.ratio(.cumulus, .peer), 5)
        add("P3", "Cumulus/limit log-only events/s", latest(.p3)?.ratio(.cumulus, .limitLogOnly), 0.2)
        add("P4", "Cumulus/limit (minimal decode) events/s", latest(.p4)?.ratio(.cumulus, .limit), 0.33)
        add("P7", "Cumulus p99 µs", latest(.p7)?.result(.cumulus)?.p99Microseconds, 5_000, lower: true)
        add("P3", "Cumulus drop 1M→10M %", p3Drop(results), 20, lower: true)
        return checks
    }

    static func goalTable(_ checks: [GoalCheck]) -> String {
        var lines = [
            "### Goals of issue 5", "", "| # | measure | goal | measured | verdict |",
            "| --- | --- | ---: | ---: | --- |",
        ]
        for check in checks {
            let goal = (check.lowerIsBetter ? "≤ " : "≥ ") + number(check.target)
            lines.append(
                "| \(check.workload) | \(check.measure) | \(goal) | \(number(check.measured)) | \(check.verdict) |")
        }
        return lines.joined(separator: "\n")
    }

    private static func number(_ value: Double) -> String {
        value >= 100 ? grouped(Int(value.rounded())) : String(format: value < 10 ? "%.3f" : "%.1f", value)
    }

    private static func rate(_ result: ContenderResult?) -> String {
        result.map { grouped(Int($0.eventsPerSecond.rounded())) } ?? "–"
    }

    private static func latency(_ value: Double?) -> String {
        value.map { grouped(Int($0.rounded())) } ?? "–"
    }

    private static func ratio(_ value: Double?) -> String {
        value.map { String(format: "%.2f", $0) } ?? "–"
    }

    private static func mebibytes(_ bytes: Int) -> String {
        String(format: "%.0f", Double(bytes) / 1_048_576)
    }

    /// 1234567 → "1,234,567".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + result
    }
}
