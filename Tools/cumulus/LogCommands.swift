import ArgumentParser
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusPostgres
import Foundation

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty log in the data directory (does nothing to an existing log)."
    )

    @OptionGroup var data: DataDirectoryOptions

    func run() async throws {
        try await reporting {
            let store = try await data.openStore(create: true)
            let statistics = try await store.statistics()
            print("log ready at \(store.place): \(statistics.eventCount) events")
            store.close()
        }
    }
}

struct AppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append events given as envelope JSON Lines (from a file or standard input).",
        discussion: """
            Each line is one append: {"stream":"user-1","type":"Noted","actor":"systemAdmin","payload":{…}}; see the
            README for every field. The whole input is parsed first: a malformed line refuses the whole input and
            nothing is appended. Then each line is appended on its own (with its own expected version) unless
            --atomic asks for all lines in one transaction. Refused lines are reported with their line number
            and the exit status is 1.
            """
    )

    @OptionGroup var data: DataDirectoryOptions

    @Argument(help: "A JSON Lines file; standard input when absent or '-'.")
    var file: String?

    @Flag(help: "Append all lines in one transaction: all or nothing.")
    var atomic = false

    func run() async throws {
        try await reporting {
            var appends: [(line: Int, append: StreamAppend)] = []
            var malformed: [String] = []
            var occurrences = LineDerivedID.Occurrences()
            var defaultedTimes: [Int: [Int]] = [:]
            for line in JSONLines.split(try readInput(file)) {
                let text: String
                switch line.text {
                case .success(let decoded): text = decoded
                case .failure(let invalid):
                    malformed.append(invalid.description)
                    continue
                }
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty { continue }
                do throws(EnvelopeJSON.LineError) {
                    let parsed = try EnvelopeJSON.parse(
                        line: trimmed, lineNumber: line.number, occurrence: occurrences.next(trimmed))
                    if let refusal = Self.domainRefusal(parsed.append) {
                        malformed.append("line \(line.number): \(refusal)")
                    } else {
                        if !parsed.defaultedTimes.isEmpty { defaultedTimes[appends.count] = parsed.defaultedTimes }
                        appends.append((line.number, parsed.append))
                    }
                } catch {
                    malformed.append(error.description)
                }
            }
            if !malformed.isEmpty {
                for error in malformed.prefix(20) { StandardError.write("cumulus: \(error)\n") }
                if malformed.count > 20 { StandardError.write("cumulus: … and \(malformed.count - 20) more\n") }
                throw CommandFailure("\(malformed.count) line(s) refused before appending; nothing was appended")
            }
            let store = try await data.openStore()
            defer { store.close() }
            try await AppendRetry.adoptStoredTimes(&appends, defaultedTimes, store: store)
            if atomic {
                do throws(EventStoreError) {
                    let results = try await store.append(atomically: appends.map(\.append))
                    let events = appends.reduce(0) { $0 + $1.append.events.count }
                    print(
                        "appended \(events) events in one transaction, last position \(results.last?.lastPosition ?? .start)"
                    )
                } catch {
                    throw CommandFailure("\(error.description) (line \(line(of: error, in: appends)))")
                }
                return
            }
            var accepted = 0
            var refused = 0
            var events = 0
            var last = GlobalPosition.start
            var index = 0
            while index < appends.count {
                let chunk = Array(appends[index..<min(index + 1000, appends.count)])
                let results: [Result<AppendResult, EventStoreError>]
                do {
                    results = try await store.append(independently: chunk.map(\.append))
                } catch {
                    AppendRetry.printCommitted(
                        accepted: accepted, refused: refused, events: events, last: last,
                        throughLine: index > 0 ? appends[index - 1].line : nil, failedFrom: chunk.first?.line)
                    throw error
                }
                for (item, result) in zip(chunk, results) {
                    switch result {
                    case .success(let appended):
                        accepted += 1
                        if !appended.wasAlreadyStored { events += item.append.events.count }
                        last = max(last, appended.lastPosition)
                    case .failure(let error):
                        refused += 1
                        StandardError.write("cumulus: line \(item.line): \(error.description)\n")
                    }
                }
                index += chunk.count
            }
            print(
                "lines accepted: \(accepted), refused: \(refused), events appended: \(events), last position: \(last)")
            if refused > 0 { throw ExitCode.failure }
        }
    }

    /// Why the domain refuses this raw append (docs/domain.md, *Raw appends*), or nil when it is admitted.
    static func domainRefusal(_ append: StreamAppend) -> String? {
        for event in append.events {
            if let refusal = DomainAdmission.refusal(
                stream: append.stream.rawValue, type: event.type, schemaVersion: event.schemaVersion,
                payload: event.payload)
            {
                return refusal
            }
        }
        return nil
    }

    private func line(of error: EventStoreError, in appends: [(line: Int, append: StreamAppend)]) -> String {
        let stream: StreamName?
        switch error {
        case .wrongExpectedVersion(let name, _, _), .duplicateStreamInAppend(let name), .emptyAppend(let name):
            stream = name
        default:
            stream = nil
        }
        if let stream, let found = appends.first(where: { $0.append.stream == stream }) { return String(found.line) }
        if case .eventIDConflict(let id, _) = error,
            let found = appends.first(where: { $0.append.events.contains { $0.id == id } })
        {
            return String(found.line)
        }
        return "?"
    }
}

struct ReadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Print events as JSON Lines: one stream, or the whole log."
    )

    @OptionGroup var data: DataDirectoryOptions

    @Option(help: "Read only this stream.")
    var stream: String?

    @Option(name: .customLong("from-version"), help: "With --stream: the first version to print (default 1).")
    var fromVersion: UInt64 = 1

    @Option(help: "Without --stream: print the events after this position (default 0, the beginning).")
    var after: UInt64 = 0

    @Option(help: "Print at most this many events.")
    var limit: Int = Int.max

    @Flag(help: "Print payloads that hold secrets (ACS connection strings) instead of withholding them.")
    var includeSecrets = false

    @Flag(help: "Print payloads that hold personal data (UPNs, names, contacts) instead of withholding them.")
    var includePersonalData = false

    func run() async throws {
        try await reporting {
            let store = try await data.openStore()
            defer { store.close() }
            var output = OutputBuffer()
            // Also when a damaged event stops the read: what was read before it is printed.
            defer { output.flush() }
            let rendering = EventRendering(includeSecrets: includeSecrets, includePersonalData: includePersonalData)
            guard fromVersion >= 1 else {
                throw CommandFailure("--from-version must be 1 or more: a stream's first event is version 1")
            }
            guard limit >= 0 else { throw CommandFailure("--limit must be 0 or more") }
            if let stream {
                let name: StreamName
                do throws(EventStoreError) { name = try StreamName(stream) } catch {
                    throw CommandFailure(error.description)
                }
                let events =
                    if let lmdb = store as? LMDBEventStore {
                        try await lmdb.readChecked(stream: name, from: StreamVersion(fromVersion), maximumCount: limit)
                    } else {
                        try await store.read(stream: name, from: StreamVersion(fromVersion), maximumCount: limit)
                    }
                for event in events {
                    output.line(rendering.line(for: event))
                }
            } else {
                try await refusePastTheEnd(after, of: store)
                var position = GlobalPosition(after)
                var remaining = limit
                while remaining > 0 {
                    let before = position
                    if let lmdb = store as? LMDBEventStore {
                        position = try lmdb.scanChecked(after: position, maximumCount: min(remaining, 16_384)) {
                            event in
                            output.line(rendering.line(for: event))
                        }
                    } else {
                        let events = try await store.readAll(after: position, maximumCount: min(remaining, 4096))
                        for event in events { output.line(rendering.line(for: event)) }
                        position = events.last?.position ?? position
                    }
                    if position == before { break }
                    remaining -= Int(position.rawValue - before.rawValue)
                }
            }
        }
    }
}

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow the log: print events after a position, then each new one as it is appended (Ctrl-C stops)."
    )

    @OptionGroup var data: DataDirectoryOptions

    @Option(help: "Start after this position (default: the current end of the log, so only new events).")
    var after: UInt64?

    @Option(help: "Print only events of this stream.")
    var stream: String?

    @Option(help: "Stop after printing this many events.")
    var count: Int?

    @Flag(help: "Print payloads that hold secrets instead of withholding them.")
    var includeSecrets = false

    @Flag(help: "Print payloads that hold personal data instead of withholding them.")
    var includePersonalData = false

    func run() async throws {
        try await reporting {
            let store = try await data.openStore()
            defer { store.close() }
            if let count, count < 0 { throw CommandFailure("--count must be 0 or more") }
            var start = GlobalPosition(after ?? 0)
            if let after {
                try await refusePastTheEnd(after, of: store)
            } else {
                start = try await store.lastPosition()
            }
            var printed = 0
            if count == 0 { return }
            for try await event in store.subscribe(after: start) {
                if let stream, event.stream.rawValue != stream { continue }
                var output = OutputBuffer()
                output.line(
                    EventRendering(includeSecrets: includeSecrets, includePersonalData: includePersonalData)
                        .line(for: event))
                output.flush()
                printed += 1
                if let count, printed >= count { break }
            }
        }
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain, every record and every index; name the first damaged position.",
        discussion: "Exit status 0: the log is sound. Exit status 1: it is damaged (or could not be opened)."
    )

    @OptionGroup var data: DataDirectoryOptions

    @Option(
        name: .customLong("expect-head"),
        help: ArgumentHelp(
            "A chain head written down earlier, as POSITION:LINK (verify prints both); the log must still hold "
                + "exactly that history, i.e. its chain link at POSITION must be LINK. Repeatable.",
            valueName: "position:link"))
    var expectedHeads: [String] = []

    @Flag(help: .hidden)
    var walk = false

    func run() async throws {
        try await reporting {
            let expectations = try expectedHeads.map(RecordedHead.init(parsing:))
            // On LMDB the walk runs in a child process, so that damage that crashes the storage engine is still
            // named; a PostgreSQL log is walked here.
            if !walk, !PostgresLocation.isURL(data.storeText) {
                return try await VerifyWalk.runInChild(
                    directory: data.storeText, arguments: expectedHeads.flatMap { ["--expect-head", $0] })
            }
            let store = try await data.openStore()
            defer { store.close() }
            let total = try await store.lastPosition().rawValue
            VerifyWalk.reportTotal(total)
            let report = try await store.verify { done in VerifyWalk.reportProgress(done) }
            print(
                "log is sound: \(report.eventCount) events in \(report.streamCount) streams, "
                    + "\(report.checkpointCount) checkpoints, last position \(report.lastPosition)")
            if !report.headLink.isEmpty { print("chain head: \(report.headLink)") }
            for line in try await DomainCensus.take(store).textLines { print(line) }
            for expectation in expectations {
                try await expectation.check(in: store, last: report.lastPosition)
                print("recorded head at position \(expectation.position): the same (\(expectation.link))")
            }
            if expectations.isEmpty, !report.headLink.isEmpty {
                print(
                    "to check later that this history is unchanged: cumulus verify --expect-head "
                        + "\(report.lastPosition):\(report.headLink)")
            }
        }
    }
}

/// A chain head an auditor wrote down (`verify --expect-head POSITION:LINK`): the log must still hold exactly the
/// history that ended there. A log rewritten with a chain computed afresh passes the walk, but not this.
struct RecordedHead {
    let position: GlobalPosition
    /// 64 lowercase hexadecimal digits.
    let link: String

    /// Reads `POSITION:LINK`; a sentence saying what is wrong otherwise.
    init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let shown = VisibleText.excerpt(text)
        guard parts.count == 2, let position = UInt64(parts[0]), position > 0 else {
            throw CommandFailure(
                "--expect-head '\(shown)': expected POSITION:LINK, a position from 1 and the 64-digit chain link "
                    + "verify printed (e.g. 378:a41a8df2…)")
        }
        let link = parts[1].lowercased()
        guard link.count == 64, link.allSatisfy({ $0.isHexDigit && $0.isASCII }) else {
            throw CommandFailure(
                "--expect-head '\(shown)': the link must be 64 hexadecimal digits, as verify prints the chain head")
        }
        self.position = GlobalPosition(position)
        self.link = link
    }

    /// Throws a sentence when the log's link at ``position`` is not ``link`` (or the log ends before it).
    func check(in store: any EventStore, last: GlobalPosition) async throws {
        guard position <= last else {
            throw CommandFailure(
                "the log ends at position \(last), before the recorded head at position \(position): events were "
                    + "removed, or this is another log")
        }
        guard let stored = try await store.chainLink(at: position) else {
            throw CommandFailure("the log holds no event at position \(position), below its last position \(last)")
        }
        guard stored == link else {
            throw CommandFailure(
                "the chain link at position \(position) is \(stored), not the recorded \(link): the history up to "
                    + "position \(position) is not the one recorded (changed and re-chained, or another log)")
        }
    }
}

/// Carries a progress line into a `@Sendable` progress callback; `verify` and `CommandHandler.handle(batches:)` call
/// it from one thread at a time.
final class ProgressBox: @unchecked Sendable {
    private let progress: ProgressLine
    init(_ progress: ProgressLine) { self.progress = progress }
    func update(_ done: UInt64) { progress.update(done) }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show events, streams, file size, map size and last position."
    )

    @OptionGroup var data: DataDirectoryOptions

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() async throws {
        try await reporting {
            let store = try await data.openStore()
            defer { store.close() }
            let statistics = try await store.statistics()
            let census = try await DomainCensus.take(store)
            if json {
                var text = JSONText()
                text.beginObject()
                text.field("directory", store.place)
                text.field("events", statistics.eventCount)
                text.field("streams", statistics.streamCount)
                text.field("lastPosition", statistics.lastPosition.rawValue)
                text.field("fileBytes", statistics.fileSize ?? 0)
                text.field("mapBytes", statistics.mapSize ?? 0)
                text.field("checkpoints", statistics.checkpointCount)
                text.field("domainEvents", census.domainEvents)
                text.field("foreignEvents", census.foreignEvents)
                text.field("unreadableEvents", census.unreadableEvents)
                text.key("unreadable")
                text.beginArray()
                for item in census.unreadable {
                    text.beginObject()
                    text.field("position", item.position.rawValue)
                    text.field("stream", item.stream)
                    text.field("type", item.type)
                    text.field("reason", item.reason)
                    text.endObject()
                }
                text.endArray()
                text.endObject()
                print(text.text)
            } else {
                print("directory:     \(store.place)")
                print("events:        \(statistics.eventCount)")
                print("streams:       \(statistics.streamCount)")
                print("last position: \(statistics.lastPosition)")
                print("file size:     \(formatBytes(statistics.fileSize ?? 0))")
                print("map size:      \(formatBytes(statistics.mapSize ?? 0))")
                print("checkpoints:   \(statistics.checkpointCount)")
                for line in census.textLines { print(line) }
            }
        }
    }
}

func formatBytes(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

/// Refuses `--after` past the log's last position: the log holds no such event (the position came from another
/// log, or from this one before it was restored from an older copy), and reading or following from there would
/// skip the events up to it once the log grows again (the same rule as `GET /v1/events` and the live streams).
func refusePastTheEnd(_ after: UInt64, of store: any EventStore) async throws {
    let head = try await store.lastPosition()
    guard let past = GlobalPosition.pastTheEnd(after, head: head, named: "--after") else { return }
    throw CommandFailure(past + "; give a position up to \(head)")
}
