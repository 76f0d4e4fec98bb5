import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Issue 9, item 4: the `cumulus` commands a backend runs all day, end to end (process start, open, load, catch
/// up, work, exit), on the demo log: `import` of one line, `state user ID` and `report licences` — each from kept
/// state (the write model and the projections caught up from their checkpoints, queries read-only and loading only
/// what they read) beside the same command the way main did it (the write model folded from position 0; all five
/// projections loaded, the log opened for writing and checkpoints saved), alternating in the same run.
///
/// `cumulus-bench cli [--cumulus PATH] [--dir PATH] [--tenants N] [--users-per-tenant N] [--days N] [--runs N]
/// [--keep] [--smoke]`
///
/// `--smoke` (CI): a tiny demo world, one run each; fails unless both ways exit 0 and the queries print the same
/// bytes. No timing is judged.
enum CLIBenchmark {
    struct Settings {
        var cumulus: String = CLIBenchmark.siblingExecutable("cumulus")
        var directory = NSTemporaryDirectory() + "/cumulus-cli-bench-\(getpid())"
        var tenants = 4
        var usersPerTenant = 900
        var days = 7
        var runs = 7
        var keep = false
        var smoke = false

        init(_ arguments: [String]) throws {
            var remaining = arguments[...]
            func value(_ name: String) throws -> String {
                guard let next = remaining.popFirst() else { throw BenchError("\(name) needs a value") }
                return next
            }
            func count(_ name: String) throws -> Int {
                guard let number = Int(try value(name)), number > 0 else {
                    throw BenchError("\(name) needs a positive number")
                }
                return number
            }
            while let argument = remaining.popFirst() {
                switch argument {
                case "--cumulus": cumulus = try value(argument)
                case "--dir": directory = try value(argument)
                case "--tenants": tenants = try count(argument)
                case "--users-per-tenant": usersPerTenant = try count(argument)
                case "--days": days = try count(argument)
                case "--runs": runs = try count(argument)
                case "--keep": keep = true
                case "--smoke": smoke = true
                default: throw BenchError("unknown cli option \(argument)")
                }
            }
            if smoke { (tenants, usersPerTenant, days, runs) = (1, 8, 1, 1) }
        }
    }

    /// One timed child process: wall time from spawn to exit, its peak RSS, exit status and output.
    struct Run {
        var milliseconds: Double
        var peakRSSMiB: Double
        var status: Int32
        var output: String
        var error: String
    }

    /// A command measured both ways.
    struct Comparison {
        var label: String
        var kept: [Run] = []
        var main: [Run] = []
    }

    static func run(_ arguments: [String]) throws {
        let settings = try Settings(arguments)
        guard FileManager.default.isExecutableFile(atPath: settings.cumulus) else {
            throw BenchError(
                "no cumulus executable at \(settings.cumulus); build it (--product cumulus) or pass --cumulus")
        }
        defer { if !settings.keep { try? FileManager.default.removeItem(atPath: settings.directory) } }
        let scratch = settings.directory + "-io"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let data = settings.directory + "/log"
        let (tenant, user, events) = try prepare(settings, data: data, scratch: scratch)
        print(
            "CLI end to end on the demo log (\(events) events; \(settings.tenants) tenants × \(settings.usersPerTenant) "
                + "users, \(settings.days) days), \(settings.runs) runs each, alternating; times include process start")
        var comparisons = [
            Comparison(label: "`cumulus import` of one line"),
            Comparison(label: "`cumulus state user ID`"),
            Comparison(label: "`cumulus report licences`"),
        ]
        let dataArguments = ["--data-dir", data]
        for round in 0..<settings.runs {
            // Each round imports two lines (one each way), so every query finds the log moved on past the checkpoints.
            let availability = round % 2 == 0 ? ("Busy", "InACall") : ("Available", "Available")
            let line = """
                {"command":"recordPresence","actor":"presenceFeed:\(tenant)","occurredAt":"2031-01-01T10:00:\
                \(String(format: "%02d", round % 60))Z","user":"\(user)","availability":"\(availability.0)",\
                "activity":"\(availability.1)"}

                """
            let input = scratch + "/line.jsonl"
            try Data(line.utf8).write(to: URL(fileURLWithPath: input))
            let keptFirst = round % 2 == 0
            for kept in keptFirst ? [true, false] : [false, true] {
                comparisons[0].record(
                    try spawn(
                        settings.cumulus, ["import", input] + dataArguments + (kept ? [] : ["--fold-from-zero"]),
                        scratch: scratch), kept: kept)
            }
            for kept in keptFirst ? [true, false] : [false, true] {
                let baseline = kept ? [] : ["--load-all-projections"]
                comparisons[1].record(
                    try spawn(settings.cumulus, ["state", "user", user] + dataArguments + baseline, scratch: scratch),
                    kept: kept)
                comparisons[2].record(
                    try spawn(settings.cumulus, ["report", "licences"] + dataArguments + baseline, scratch: scratch),
                    kept: kept)
            }
        }
        try check(comparisons)
        print("")
        print(
            "| command | kept state: median ms (min) | main's approach: median ms (min) | main / kept | kept peak RSS MiB | main peak RSS MiB |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for comparison in comparisons {
            let kept = comparison.kept.map(\.milliseconds)
            let main = comparison.main.map(\.milliseconds)
            print(
                "| \(comparison.label) | \(format(median(kept))) (\(format(kept.min() ?? 0))) | "
                    + "\(format(median(main))) (\(format(main.min() ?? 0))) | \(String(format: "%.1f", median(main) / max(median(kept), 1e-9)))x "
                    + "| \(format(comparison.kept.map(\.peakRSSMiB).max() ?? 0)) "
                    + "| \(format(comparison.main.map(\.peakRSSMiB).max() ?? 0)) |")
        }
        if settings.smoke {
            print("smoke: both ways ran and the queries printed the same output (no timing judged)")
        } else {
            let met = comparisons.allSatisfy { median($0.kept.map(\.milliseconds)) <= 100 }
            print("goal: each ≤ 100 ms from kept state (median): \(met ? "met" : "missed")")
        }
    }

    /// Builds the demo log with `cumulus demo` (or reuses one kept by `--keep`), and finds a tenant and a user.
    private static func prepare(
        _ settings: Settings, data: String, scratch: String
    ) throws -> (tenant: String, user: String, events: UInt64) {
        let demo = try spawn(
            settings.cumulus,
            [
                "demo", "--data-dir", data, "--tenants", "\(settings.tenants)", "--users-per-tenant",
                "\(settings.usersPerTenant)", "--days", "\(settings.days)", "--no-serve",
            ], scratch: scratch)
        guard demo.status == 0 else { throw BenchError("cumulus demo failed: \(demo.error)") }
        guard
            let tenant = demo.output.split(separator: "\n").compactMap({ line -> String? in
                guard let range = line.range(of: ", id ") else { return nil }
                return String(line[range.upperBound...].dropLast())
            }).first
        else { throw BenchError("cumulus demo printed no tenant id") }
        let read = try spawn(settings.cumulus, ["read", "--limit", "3000", "--data-dir", data], scratch: scratch)
        guard
            let userLine = read.output.split(separator: "\n").first(where: {
                $0.contains("\"type\":\"UserCreated\"")
            }),
            let stream = userLine.range(of: "\"stream\":\"user-")
        else { throw BenchError("no UserCreated event in the first 3000 of the demo log") }
        let stats = try spawn(settings.cumulus, ["stats", "--data-dir", data], scratch: scratch)
        let events =
            stats.output.split(separator: "\n").lazy.compactMap { line -> UInt64? in
                guard line.contains("events") else { return nil }
                return line.split(whereSeparator: { !$0.isNumber }).first.flatMap { UInt64($0) }
            }.first ?? 0
        return (tenant, String(userLine[stream.upperBound...].prefix(36)), events)
    }

    /// Both ways must succeed, and print the same for the queries (the import prints its own timing).
    private static func check(_ comparisons: [Comparison]) throws {
        for comparison in comparisons {
            for run in comparison.kept + comparison.main where run.status != 0 {
                throw BenchError("\(comparison.label) exited with \(run.status): \(run.error)")
            }
        }
        for comparison in comparisons.dropFirst() {
            for (kept, main) in zip(comparison.kept, comparison.main) where kept.output != main.output {
                throw BenchError("\(comparison.label): kept state and main's approach printed different output")
            }
        }
    }

    /// Runs `executable` with stdin from `arguments`' file (for import) or /dev/null, stdout and stderr to files.
    private static func spawn(_ executable: String, _ arguments: [String], scratch: String) throws -> Run {
        let outPath = scratch + "/out"
        let errPath = scratch + "/err"
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let started = ContinuousClock.now
        let code = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard code == 0 else {
            throw BenchError("posix_spawn \(executable) failed: \(String(cString: strerror(code)))")
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw BenchError("wait4 failed: \(String(cString: strerror(errno)))") }
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds =
            Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let error = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Run(
            milliseconds: milliseconds, peakRSSMiB: Double(usage.ru_maxrss) / 1024, status: exited, output: output,
            error: error)
    }

    /// An executable in the same directory as this one (the same build's `cumulus`).
    static func siblingExecutable(_ name: String) -> String {
        let own =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: own).deletingLastPathComponent().appendingPathComponent(name).path
    }

    private static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    private static func format(_ value: Double) -> String { String(format: "%.0f", value) }
}

extension CLIBenchmark.Comparison {
    mutating func record(_ run: CLIBenchmark.Run, kept: Bool) {
        if kept { self.kept.append(run) } else { main.append(run) }
    }
}
