import Foundation

/// The run mode: every planned workload, the tables, the goals, the JSON; `--smoke` cross-checks only.
enum BenchmarkRun {
    static func run(_ options: Options) throws -> Int32 {
        let machine = Machine.current()
        say("cumulus-bench on \(machine.summary)")
        if machine.build == "debug" && !options.smoke {
            say("warning: a debug build; the figures mean little — build with -c release")
        }
        try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
        defer { if !options.keep { try? FileManager.default.removeItem(atPath: options.directory) } }
        if isTemporaryFileSystem(options.directory) {
            say("warning: \(options.directory) is on tmpfs, where a sync costs nothing; pass --dir on a disk")
        }
        say("stores under \(options.directory)\n")
        if !options.smoke { say(ReportPrinter.contenderNotes + "\n") }

        var results: [WorkloadResult] = []
        for var plan in options.plans() {
            let label = "\(plan.workload.rawValue)-\(plan.events)"
            let directory: String
            if plan.workload == .p4 {
                directory = options.directory + "/P3-\(plan.events)"
                plan.sourceDirectory = directory
            } else {
                directory = options.directory + "/" + label
            }
            FileHandle.standardError.write(Data("running \(plan.workload.rawValue) at \(plan.events) events…\n".utf8))
            let result = try Coordinator.run(plan, directory: directory)
            results.append(result)
            say(ReportPrinter.table(result) + "\n")
            if plan.workload == .p2, let p1 = results.first(where: { $0.plan.workload == .p1 }) {
                say(ReportPrinter.p2OverP1(p1, result) + "\n")
            }
        }
        if options.smoke { return smokeVerdict(results) }
        if results.filter({ $0.plan.workload == .p3 }).count > 1 { say(ReportPrinter.curve(results) + "\n") }
        let goals = ReportPrinter.goals(results)
        say(ReportPrinter.goalTable(goals))
        let report = BenchReport(
            machine: machine, options: options, results: results, goals: goals,
            p3DropPercent: ReportPrinter.p3Drop(results))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: options.json))
        say("\nresults written to \(options.json)")
        return 0
    }

    /// Smoke mode: every contender of every workload stored and read back the same events.
    static func smokeVerdict(_ results: [WorkloadResult]) -> Int32 {
        var failures: [String] = []
        for result in results {
            let expected = result.plan.events
            for contender in result.contenders {
                let tally = contender.tally
                say(
                    "smoke \(result.plan.workload.rawValue) \(contender.contender.rawValue): "
                        + "\(tally.count) events read back, checksum \(tally.checksum)")
                if tally.count != expected {
                    failures.append(
                        "\(result.plan.workload.rawValue) \(contender.contender.rawValue) read back \(tally.count) "
                            + "events, expected \(expected)")
                }
                if result.plan.workload != .p4 && contender.events != expected {
                    failures.append(
                        "\(result.plan.workload.rawValue) \(contender.contender.rawValue) ran \(contender.events) "
                            + "events, expected \(expected)")
                }
            }
            if let first = result.contenders.first,
                let odd = result.contenders.first(where: { $0.tally != first.tally })
            {
                failures.append(
                    "\(result.plan.workload.rawValue): \(odd.contender.rawValue) read back \(odd.tally.count) events "
                        + "with checksum \(odd.tally.checksum), \(first.contender.rawValue) \(first.tally.count) "
                        + "with \(first.tally.checksum)")
            }
        }
        let ran = Set(results.map(\.plan.workload))
        for workload in WorkloadID.allCases where !ran.contains(workload) {
            failures.append("\(workload.rawValue) did not run")
        }
        if failures.isEmpty {
            say("smoke: ok — \(results.count) workloads ran; all contenders stored and read back the same events")
            return 0
        }
        for failure in failures { say("smoke: FAILED: \(failure)") }
        return 1
    }

    /// Writes a line to standard output unbuffered, so it interleaves in order with the progress on standard error.
    static func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Whether `path` lies on tmpfs (by the longest matching mount point in /proc/self/mounts).
    private static func isTemporaryFileSystem(_ path: String) -> Bool {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return false }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var best = (length: -1, type: "")
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let point = String(fields[1])
            let matches = absolute == point || absolute.hasPrefix(point == "/" ? "/" : point + "/")
            if matches && point.count > best.length { best = (point.count, String(fields[2])) }
        }
        return best.type == "tmpfs"
    }
}
