import ArgumentParser
import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import Foundation

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Apply commands given as JSON Lines (from a file or standard input), in order.",
        discussion: """
            One command per line: {"command":"createUser","actor":"tenantAdmin:…","occurredAt":"…", …fields}; docs/domain.md
            has an example of every command. Each line is checked on its own (permissions, rules, ranges): a refused line
            prints its number and the reason and is skipped. With --atomic a single refused line refuses the whole file.
            Lines are decided in order and appended in group commits of --batch lines. Ends with a summary.
            """
    )

    @OptionGroup var data: DataDirectoryOptions

    @Argument(help: "A JSON Lines file; standard input when absent or '-'.")
    var file: String?

    @Flag(help: "Apply all lines in one transaction, or none if any line is refused.")
    var atomic = false

    @Option(help: "Lines decided and appended per group commit.")
    var batch: Int = 2000

    @Option(help: "Print at most this many refused lines (all are counted).")
    var maximumReported: Int = 50

    func run() async throws {
        try await reporting {
            let text = try readInput(file)
            let store = try await data.openStore(create: true)
            defer { store.close() }
            let handler = CommandHandler(store: store)
            let parsed = CommandImport.parse(lines: text)
            var summary = ImportSummary(maximumReported: maximumReported)
            let clock = ContinuousClock()
            let started = clock.now
            if atomic {
                try await importAtomically(parsed, handler: handler, summary: &summary)
            } else {
                let progress = ProgressLine("importing", total: UInt64(parsed.count))
                var index = 0
                while index < parsed.count {
                    let chunk = parsed[index..<min(index + max(1, batch), parsed.count)]
                    var requests: [CommandRequest] = []
                    var lines: [Int] = []
                    for item in chunk {
                        switch item.result {
                        case .success(let request):
                            requests.append(request)
                            lines.append(item.line)
                        case .failure(let refusal):
                            summary.refuse(line: item.line, reason: refusal.reason)
                        }
                    }
                    let results: [CommandHandler.LineResult]
                    do throws(CommandError) {
                        results = try await handler.handle(batch: requests)
                    } catch {
                        throw CommandFailure(error.description)
                    }
                    for (line, result) in zip(lines, results) { summary.record(line: line, result) }
                    index += chunk.count
                    progress.update(UInt64(index))
                }
                progress.finish(UInt64(parsed.count))
            }
            let elapsed = clock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            summary.print(seconds: seconds, atomic: atomic)
            if summary.refused > 0 { throw ExitCode.failure }
        }
    }

    private func importAtomically(
        _ parsed: [(line: Int, result: Result<CommandRequest, ImportLineRefusal>)],
        handler: CommandHandler,
        summary: inout ImportSummary
    ) async throws {
        var requests: [CommandRequest] = []
        var lines: [Int] = []
        for item in parsed {
            switch item.result {
            case .success(let request):
                requests.append(request)
                lines.append(item.line)
            case .failure(let refusal): summary.refuse(line: item.line, reason: refusal.reason)
            }
        }
        if summary.refused > 0 {
            summary.refuseRest(lines.count)
            return
        }
        let results: [CommandHandler.LineResult]
        let appended: [AppendResult]
        do throws(CommandError) {
            (results, appended) = try await handler.handle(atomically: requests)
        } catch {
            throw CommandFailure(error.description)
        }
        if results.contains(where: { if case .failure = $0 { true } else { false } }) {
            for (line, result) in zip(lines, results) {
                if case .failure(let error) = result { summary.refuse(line: line, reason: error.description) }
            }
            summary.refuseRest(0)
            return
        }
        for (line, result) in zip(lines, results) { summary.record(line: line, result) }
        summary.events = appended.reduce(0) { total, result in
            total + Int(result.lastPosition.rawValue - result.firstPosition.rawValue + 1)
        }
    }
}

/// Counts what an import did and reports refused lines as it goes.
struct ImportSummary {
    let maximumReported: Int
    var accepted = 0
    var refused = 0
    var duplicates = 0
    var unchanged = 0
    var events = 0
    var nothingAppended = false

    init(maximumReported: Int) { self.maximumReported = maximumReported }

    mutating func refuse(line: Int, reason: String) {
        refused += 1
        if refused <= maximumReported {
            StandardError.write("cumulus: line \(line): \(reason)\n")
        } else if refused == maximumReported + 1 {
            StandardError.write("cumulus: … further refused lines are counted, not printed\n")
        }
    }

    /// An atomic import was refused: nothing of it was appended.
    mutating func refuseRest(_ count: Int) {
        nothingAppended = true
        accepted = 0
        events = 0
    }

    mutating func record(line: Int, _ result: CommandHandler.LineResult) {
        switch result {
        case .success(.alreadyStored):
            duplicates += 1
        case .success(.unchanged):
            accepted += 1
            unchanged += 1
        case .success(let outcome):
            accepted += 1
            events += outcome.eventCount
        case .failure(let error):
            refuse(line: line, reason: error.description)
        }
    }

    func print(seconds: Double, atomic: Bool) {
        if nothingAppended {
            Swift.print("refused: \(refused) line(s); --atomic: nothing was appended")
            return
        }
        let rate = seconds > 0 ? Double(accepted + refused + duplicates) / seconds : 0
        Swift.print(
            "accepted: \(accepted) (unchanged: \(unchanged)), refused: \(refused), duplicates: \(duplicates), "
                + "events appended: \(events), \(String(format: "%.2f", seconds)) s (\(ProgressLine.formatRate(rate)) lines/s)"
        )
    }
}
