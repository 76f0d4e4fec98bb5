import ArgumentParser
import CumulusLog
import Foundation

struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a whole log between backends, keeping positions, ids, recorded times and the hash chain.",
        discussion: """
            --from and --to are each a directory (LMDB) or a postgres:// URL (docs/postgres.md). The target must be
            empty; after an interruption, run the same command with --resume: it checks that the target's last event
            is the source's event at that position and continues after it. Afterwards `cumulus verify` on both prints
            the same chain head.
            """
    )

    @Option(help: "The log to copy: a directory or a postgres:// URL.")
    var from: String

    @Option(help: "Where to copy it: a directory or a postgres:// URL (created when absent; must be empty).")
    var to: String

    @Flag(help: "Continue an interrupted copy from the same source.")
    var resume = false

    @Option(help: "Events per transaction.")
    var batch: Int = 4096

    func run() async throws {
        try await reporting {
            guard batch > 0 else { throw CommandFailure("--batch must be at least 1") }
            let source = try await DataDirectoryOptions.openStore(from, create: false)
            defer { source.close() }
            let target = try await DataDirectoryOptions.openStore(to, create: true)
            defer { target.close() }
            guard source.place != target.place else {
                throw CommandFailure("--from and --to both name \(source.place): a log cannot be copied onto itself")
            }
            var position = try await target.lastPosition()
            if position > .start {
                guard resume else {
                    throw CommandFailure(
                        "\(target.place) holds \(position) events already: copy only into an empty log, or pass "
                            + "--resume to continue an interrupted copy of the same source; nothing was copied")
                }
                let previous = GlobalPosition(position.rawValue - 1)
                let copied = try await target.readAll(after: previous, maximumCount: 1).first
                let original = try await source.readAll(after: previous, maximumCount: 1).first
                guard let copied, copied == original else {
                    throw CommandFailure(
                        "\(target.place) is not a partial copy of \(source.place): their events at position "
                            + "\(position) differ; nothing was copied")
                }
            }
            let total = try await source.lastPosition()
            let progress = ProgressLine(position > .start ? "resuming the copy" : "copying", total: total.rawValue)
            while true {
                let events = try await source.readAll(after: position, maximumCount: batch)
                guard let last = events.last else { break }
                try await target.appendCopied(events)
                position = last.position
                progress.update(position.rawValue)
            }
            progress.finish(position.rawValue)
            print(
                "copied \(source.place) to \(target.place): \(position) events; `cumulus verify` on each prints the "
                    + "same chain head")
        }
    }
}
