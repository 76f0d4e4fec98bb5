import Foundation

/// One contender's figures for one workload.
struct ContenderResult: Codable, Sendable {
    /// Who.
    var contender: Contender
    /// Events written or read in the timed rounds.
    var events: Int
    /// Seconds of timed work.
    var seconds: Double
    /// Events per second.
    var eventsPerSecond: Double
    /// Median latency, microseconds (P1, P2, P7).
    var p50Microseconds: Double?
    /// 99th-percentile latency, microseconds (P1, P2, P7).
    var p99Microseconds: Double?
    /// Peak resident set of the contender's worker process (VmHWM), bytes; includes mapped file pages.
    var peakRSSBytes: Int
    /// Largest anonymous resident memory seen in the worker, bytes.
    var peakAnonymousBytes: Int
    /// What it read back afterwards.
    var tally: Tally
}

/// One workload at one size, all its contenders.
struct WorkloadResult: Codable, Sendable {
    /// The plan it ran.
    var plan: WorkloadPlan
    /// The figures, in the plan's contender order.
    var contenders: [ContenderResult]

    /// The figures of one contender.
    func result(_ contender: Contender) -> ContenderResult? {
        contenders.first { $0.contender == contender }
    }

    /// `numerator`'s throughput over `denominator`'s.
    func ratio(_ numerator: Contender, _ denominator: Contender) -> Double? {
        guard let top = result(numerator)?.eventsPerSecond, let bottom = result(denominator)?.eventsPerSecond,
            bottom > 0
        else { return nil }
        return top / bottom
    }
}

/// Runs one workload: a worker process per contender, round `k` of each in rotating order (so drift in the
/// machine hits every contender alike), then each reads its store back.
enum Coordinator {
    static func run(_ plan: WorkloadPlan, directory: String) throws -> WorkloadResult {
        var workers: [WorkerProcess] = []
        defer { for worker in workers { worker.terminate() } }
        for contender in plan.contenders {
            let setup = WorkerSetup(plan: plan, contender: contender, directory: directory + "/" + contender.rawValue)
            workers.append(try WorkerProcess(setup))
        }
        for worker in workers { try worker.waitUntilReady() }
        var events = [Int](repeating: 0, count: workers.count)
        var timings = [Double](repeating: 0, count: workers.count)
        var latencies = [[Double]](repeating: [], count: workers.count)
        for round in plan.rounds.indices {
            for turn in workers.indices {
                let index = (turn + round) % workers.count
                let report = try workers[index].send(.round(round), expecting: RoundReport.self)
                events[index] += report.events
                timings[index] += report.seconds
                latencies[index] += report.latencies
            }
        }
        var results: [ContenderResult] = []
        for (index, worker) in workers.enumerated() {
            let finish = try worker.send(.finish, expecting: FinishReport.self)
            try worker.waitForExit()
            let sorted = latencies[index].sorted()
            results.append(
                ContenderResult(
                    contender: worker.contender,
                    events: events[index],
                    seconds: timings[index],
                    eventsPerSecond: timings[index] > 0 ? Double(events[index]) / timings[index] : 0,
                    p50Microseconds: percentile(sorted, 0.50),
                    p99Microseconds: percentile(sorted, 0.99),
                    peakRSSBytes: finish.peakRSS,
                    peakAnonymousBytes: finish.peakAnonymous,
                    tally: finish.tally
                )
            )
        }
        workers.removeAll()
        return WorkloadResult(plan: plan, contenders: results)
    }

    /// Nearest-rank percentile of sorted values; nil when there are none.
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
