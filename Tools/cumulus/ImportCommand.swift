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

    @Option(
        help: ArgumentHelp(
            "Save the write model's checkpoint when the run leaves it at least this many events past the one loaded "
                + "(0: after every run).",
            valueName: "events"))
    var checkpointInterval: UInt64 = 1_000

    @Flag(
        name: .customLong("fold-from-zero"),
        help: .hidden  // the benchmark's baseline: the approach before the kept write model
    )
    var foldFromZero = false

    func run() async throws {
        try await reporting {
            let bytes = try readInput(file)
            let store = try await data.openStore()
            defer { store.close() }
            let handler = CommandHandler(store: store, logger: data.logger)
            // The kept write model: decide against its checkpoint plus what came after, not the whole log.
            var restoredAt = GlobalPosition.start
            if !foldFromZero {
                let outcome: WriteModel.Restore
                do throws(CommandError) { outcome = try await handler.restoreCheckpoint() } catch {
                    throw CommandFailure(error.description)
                }
                if outcome.wasDiscarded { StandardError.write("cumulus: \(outcome)\n") }
                if case .restored(let position) = outcome { restoredAt = position }
            }
            let parsed = CommandImport.parse(bytes: bytes)
            var summary = ImportSummary(maximumReported: maximumReported)
            let clock = ContinuousClock()
            let started = clock.now
            if atomic {
                try await importAtomically(parsed, handler: handler, summary: &summary)
            } else {
                let progress = ProgressLine("importing", total: UInt64(parsed.count))
                // The chunks of lines, each one batch of the handler (lines refused while parsing left out of it);
                // handled as one run, in which each next batch is decided while the one before it commits.
                var chunks: [ImportChunk] = []
                var index = 0
                while index < parsed.count {
                    let lines = parsed[index..<min(index + max(1, batch), parsed.count)]
                    index += lines.count
                    chunks.append(ImportChunk(lines: lines, end: UInt64(index)))
                }
                let (box, ends) = (ProgressBox(progress), chunks.map(\.end))
                let outcome = await handler.handle(batches: chunks.map(\.requests)) { handled in
                    box.update(ends[handled - 1])
                }
                // The batches handled, in order (all of them unless a failure stopped the run).
                for (chunk, results) in zip(chunks, outcome.results) {
                    chunk.reportParseRefusals(to: &summary)
                    for (line, result) in zip(chunk.numbers, results) { summary.record(line: line, result) }
                    summary.committedThroughLine = chunk.lines.last?.line
                }
                // The batch the run stopped at, if it stopped: nothing of it or after it was appended.
                if let failure = outcome.failure {
                    let stopped = outcome.results.count
                    let chunk = stopped < chunks.count ? chunks[stopped] : nil
                    chunk?.reportParseRefusals(to: &summary)
                    progress.finish(stopped > 0 ? chunks[stopped - 1].end : 0)
                    summary.printCommitted(failedFrom: chunk?.lines.first?.line)
                    throw CommandFailure(failure.description)
                }
                progress.finish(UInt64(parsed.count))
            }
            // Saved once the model is `checkpointInterval` events past the checkpoint loaded: the next run then
            // catches up with fewer than that many (≈ 1 ms per thousand), and a one-line import costs one commit,
            // not two (the write model of the demo log is ≈ 1 MB).
            let position = await handler.currentModel.position
            if !foldFromZero, position > restoredAt,
                position.rawValue - restoredAt.rawValue >= checkpointInterval
            {
                do throws(CommandError) { try await handler.saveCheckpoint() } catch {
                    throw CommandFailure(error.description)
                }
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

/// One batch of an import: its parsed lines, the requests of those that parsed and their line numbers.
struct ImportChunk {
    /// The lines, each parsed into a request or refused.
    let lines: ArraySlice<(line: Int, result: Result<CommandRequest, ImportLineRefusal>)>
    /// The requests of the lines that parsed, in order: the handler's batch.
    let requests: [CommandRequest]
    /// The line number of each request.
    let numbers: [Int]
    /// How many lines of the input end with this chunk (the progress after it).
    let end: UInt64

    init(lines: ArraySlice<(line: Int, result: Result<CommandRequest, ImportLineRefusal>)>, end: UInt64) {
        var requests: [CommandRequest] = []
        var numbers: [Int] = []
        for item in lines {
            if case .success(let request) = item.result {
                requests.append(request)
                numbers.append(item.line)
            }
        }
        (self.lines, self.requests, self.numbers, self.end) = (lines, requests, numbers, end)
    }

    /// Reports the lines refused while parsing.
    func reportParseRefusals(to summary: inout ImportSummary) {
        for item in lines {
            if case .failure(let refusal) = item.result { summary.refuse(line: item.line, reason: refusal.reason) }
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
    /// The last line of the last batch that was committed (every line up to it is decided and stored).
    var committedThroughLine: Int?
    /// The highest position appended so far.
    var lastPosition = GlobalPosition.start

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
            if case .appended(let results) = outcome {
                for result in results { lastPosition = max(lastPosition, result.lastPosition) }
            }
        case .failure(let error):
            refuse(line: line, reason: error.description)
        }
    }

    /// After a storage failure: what was committed before it, and how to go on.
    func printCommitted(failedFrom: Int?) {
        Swift.print(
            "accepted: \(accepted) (unchanged: \(unchanged)), refused: \(refused), duplicates: \(duplicates), "
                + "events appended: \(events), last position: \(lastPosition)")
        if let committedThroughLine {
            Swift.print(
                "committed: every line up to line \(committedThroughLine) (last position \(lastPosition)); not "
                    + "stored: line \(failedFrom.map(String.init) ?? "?") onward. Fix the cause and import the same "
                    + "input again: lines stored already are recognised by their event ids and skipped")
        } else {
            Swift.print("committed: nothing; import the same input again once the cause is fixed")
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
