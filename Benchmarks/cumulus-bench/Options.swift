import Foundation

/// The command line of `cumulus-bench` (run mode).
struct Options: Codable, Sendable {
    /// Events for P3 and P4 (`--events`).
    var events = 1_000_000
    /// Events for P1 (`--p1-events`).
    var p1Events = 2_000
    /// Events for P2 (`--p2-events`).
    var p2Events = 20_000
    /// Events for P7 (`--p7-events`).
    var p7Events = 2_000
    /// User streams (`--streams`).
    var streams = 100_000
    /// Events per P3 commit (`--batch`).
    var batch = 10_000
    /// Concurrent tasks in P2 (`--tasks`).
    var tasks = 64
    /// Timed P4 passes (`--passes`).
    var passes = 3
    /// P3/P4 at 1M, 3M and 10M events (`--scale`).
    var scale = false
    /// Tiny sizes and a cross-check only (`--smoke`).
    var smoke = false
    /// Which workloads (`--workloads P1,P3`).
    var workloads = WorkloadID.allCases
    /// Where the JSON results go (`--json`).
    var json = "benchmark-results.json"
    /// Where the stores are made (`--dir`); removed afterwards unless `--keep`.
    var directory = NSTemporaryDirectory() + "cumulus-bench-\(getpid())"
    /// Keep the stores (`--keep`).
    var keep = false
    /// Run only these contenders (`--only cumulus`), for profiling one of them.
    var only: [Contender]?

    static let usage = """
        usage: cumulus-bench [--events N] [--p1-events N] [--p2-events N] [--p7-events N] [--streams N]
                             [--batch N] [--tasks N] [--passes N] [--workloads P1,P2,P3,P4,P7]
                             [--scale] [--smoke] [--json PATH] [--dir PATH] [--keep] [--only cumulus,…]
               cumulus-bench stream-index [EVENTS] [STREAMS]
        Build it in release mode: swift build -c release --product cumulus-bench
        """

    init() {}

    /// Parses the arguments after the executable's name.
    init(_ arguments: [String]) throws {
        var remaining = arguments[...]
        func value(_ name: String) throws -> String {
            guard let next = remaining.popFirst() else { throw BenchError("\(name) needs a value\n\(Self.usage)") }
            return next
        }
        func count(_ name: String) throws -> Int {
            let text = try value(name).replacingOccurrences(of: "_", with: "").replacingOccurrences(of: ",", with: "")
            guard let number = Int(text), number > 0 else { throw BenchError("\(name) needs a positive number") }
            return number
        }
        while let argument = remaining.popFirst() {
            switch argument {
            case "--events": events = try count(argument)
            case "--p1-events": p1Events = try count(argument)
            case "--p2-events": p2Events = try count(argument)
            case "--p7-events": p7Events = try count(argument)
            case "--streams": streams = try count(argument)
            case "--batch": batch = try count(argument)
            case "--tasks": tasks = try count(argument)
            case "--passes": passes = try count(argument)
            case "--scale": scale = true
            case "--smoke": smoke = true
            case "--keep": keep = true
            case "--json": json = try value(argument)
            case "--dir": directory = try value(argument)
            case "--workloads":
                workloads = try value(argument).split(separator: ",").map { name in
                    guard let workload = WorkloadID(rawValue: name.uppercased()) else {
                        throw BenchError("unknown workload \(name); known: P1, P2, P3, P4, P7")
                    }
                    return workload
                }
            case "--only":
                only = try value(argument).split(separator: ",").map { name in
                    guard let contender = Contender(rawValue: String(name)) else {
                        throw BenchError("unknown contender \(name); known: limit, limit-log-only, cumulus, peer")
                    }
                    return contender
                }
            case "--help", "-h": throw BenchError(Self.usage)
            default: throw BenchError("unknown argument \(argument)\n\(Self.usage)")
            }
        }
        if smoke {
            p1Events = 20
            p2Events = 256
            p7Events = 20
            events = 2 * batch
            passes = 1
        }
    }

    /// The P3/P4 sizes to run.
    var sizes: [Int] { scale ? [1_000_000, 3_000_000, 10_000_000] : [events] }

    /// The plans, in run order; P4 scans the stores P3 made at the same size, so P3 precedes it.
    func plans() -> [WorkloadPlan] {
        func plan(_ workload: WorkloadID, _ events: Int, batch: Int) -> WorkloadPlan {
            WorkloadPlan(
                workload: workload, events: events, streams: streams, batchSize: batch, tasks: tasks, passes: passes,
                only: only)
        }
        var plans: [WorkloadPlan] = []
        if workloads.contains(.p1) { plans.append(plan(.p1, p1Events, batch: 100)) }
        if workloads.contains(.p2) { plans.append(plan(.p2, p2Events, batch: tasks * 40)) }
        if workloads.contains(.p3) || workloads.contains(.p4) {
            for size in sizes {
                plans.append(plan(.p3, size, batch: batch))
                if workloads.contains(.p4) { plans.append(plan(.p4, size, batch: batch)) }
            }
        }
        if workloads.contains(.p7) { plans.append(plan(.p7, p7Events, batch: 100)) }
        return plans
    }
}
