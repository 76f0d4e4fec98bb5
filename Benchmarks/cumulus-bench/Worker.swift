import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The setup a coordinator hands to a worker process (as one JSON argument).
struct WorkerSetup: Codable, Sendable {
    /// The workload and its size.
    var plan: WorkloadPlan
    /// Whose work this worker does.
    var contender: Contender
    /// The contender's store (P4: the P3 store it scans).
    var directory: String
}

/// One contender's side of one workload, in its own process so that its peak memory is its own.
///
/// Protocol on standard input/output, one JSON object a line: the worker prints `{"ready":true}` after setup
/// (untimed: opening, the P4 warm-up pass), then answers every ``WorkerCommand`` with a ``RoundReport`` or,
/// for `finish`, a ``FinishReport``, and exits. Anything else it says goes to standard error.
enum Worker {
    static func run(_ setup: WorkerSetup) async throws {
        let workload = try PresenceWorkload(streams: setup.plan.streams)
        let store: any ContenderStore
        switch setup.contender {
        case .limit, .limitLogOnly:
            store = try LimitStore(
                directory: setup.directory, workload: workload, logOnly: setup.contender == .limitLogOnly)
        case .cumulus:
            store = try CumulusStore(directory: setup.directory, workload: workload)
        case .peer:
            store = try PeerStore(directory: setup.directory, workload: workload)
        }
        defer { store.close() }
        if setup.plan.workload == .p4 { _ = try store.scanAll() }  // warm: the file is in the page cache
        var peakAnonymous = MemoryUsage.current().anonymous
        try reply(["ready": true])
        let rounds = setup.plan.rounds
        while let line = readLine() {
            let command = try JSONDecoder().decode(WorkerCommand.self, from: Data(line.utf8))
            switch command {
            case .round(let index):
                guard rounds.indices.contains(index) else { throw BenchError("no round \(index)") }
                let report = try await runRound(setup.plan, rounds[index], store: store, workload: workload)
                peakAnonymous = max(peakAnonymous, MemoryUsage.current().anonymous)
                try reply(report)
            case .finish:
                // Memory first: reading everything back (untimed) would touch the whole map and count it.
                let usage = MemoryUsage.current()
                let tally = try await store.readBack()
                try reply(
                    FinishReport(
                        tally: tally, peakRSS: usage.peak, peakAnonymous: max(peakAnonymous, usage.anonymous)))
                return
            }
        }
    }

    private static func runRound(
        _ plan: WorkloadPlan, _ range: Range<Int>, store: any ContenderStore, workload: PresenceWorkload
    ) async throws -> RoundReport {
        switch plan.workload {
        case .p1: return try await store.appendOnePerCommit(workload.events(range))
        case .p2: return try await store.appendConcurrently(workload.events(range), tasks: plan.tasks)
        case .p3: return try await store.importBatch(workload.importBatch(range))
        case .p4: return try store.scanAll()
        case .p7: return try await store.appendUntilVisible(workload.events(range))
        }
    }

    private static func reply(_ value: some Encodable) throws {
        let data = try JSONEncoder().encode(value)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

/// Memory of this process, from `/proc/self/status`.
struct MemoryUsage {
    /// VmHWM: the peak resident set, bytes (anonymous and file-backed pages, memory maps included).
    var peak = 0
    /// RssAnon: anonymous resident memory now, bytes (heap and stacks; not the page cache of mapped files).
    var anonymous = 0

    static func current() -> MemoryUsage {
        var usage = MemoryUsage()
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return usage }
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { continue }
            if fields[0] == "VmHWM:" { usage.peak = kilobytes * 1024 }
            if fields[0] == "RssAnon:" { usage.anonymous = kilobytes * 1024 }
        }
        return usage
    }
}
