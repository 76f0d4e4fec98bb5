import ArgumentParser
import CumulusLMDB
import CumulusLog
import Foundation

/// The `cumulus` command-line tool.
@main
struct CumulusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cumulus",
        abstract: "The Cumulus event log: append, read, follow, verify.",
        discussion: """
            Every command works on one log: --store (a directory or a postgres:// URL), else $CUMULUS_STORE, else the
            data directory: --data-dir, else $CUMULUS_DATA_DIR, else ./cumulus-data.
            """,
        subcommands: [
            DemoCommand.self, InitCommand.self, ImportCommand.self, AppendCommand.self, ReadCommand.self,
            TailCommand.self, VerifyCommand.self, StatsCommand.self, RebuildCommand.self, StateCommand.self,
            AuditCommand.self, ReportCommand.self, CopyCommand.self,
        ]
    )
}

/// The data directory option every command shares.
struct DataDirectoryOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The log's directory (default: $CUMULUS_DATA_DIR or ./cumulus-data).")
    var dataDirectory: String?

    @Option(help: "The log: a directory or a postgres:// URL (default: $CUMULUS_STORE, else the data directory).")
    var store: String?

    var path: String {
        dataDirectory ?? ProcessInfo.processInfo.environment["CUMULUS_DATA_DIR"] ?? "cumulus-data"
    }

    func open(create: Bool = false, durability: LMDBEventStore.Durability = .full) throws -> LMDBEventStore {
        do {
            return try LMDBEventStore.open(directory: path, options: .init(create: create, durability: durability))
        } catch {
            throw CommandFailure(error.description)
        }
    }
}

/// A failure the tool reports as one line on standard error, exiting with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension AsyncParsableCommand {
    /// Runs `body`, turning a log error into a message on stderr and exit status 1.
    func reporting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as CommandFailure {
            StandardError.write("cumulus: \(failure.description)\n")
            throw ExitCode.failure
        } catch let error as EventStoreError {
            StandardError.write("cumulus: \(error.description)\n")
            throw ExitCode.failure
        }
    }
}

/// The whole text of `file`, or of standard input when `file` is nil or `-`.
func readInput(_ file: String?) throws -> String {
    if let file, file != "-" {
        guard let contents = FileManager.default.contents(atPath: file) else {
            throw CommandFailure("cannot read \(file)")
        }
        return String(decoding: contents, as: UTF8.self)
    }
    return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
}

/// Unbuffered writes to standard error; buffered, explicitly flushed writes to standard output.
enum StandardError {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static var isTerminal: Bool { isatty(2) == 1 }
}

/// Collects output lines and writes them to stdout in large chunks.
struct OutputBuffer {
    private var buffer: [UInt8] = []

    mutating func line(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(1, base + offset, raw.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
