import ArgumentParser
import CumulusLMDB
import CumulusLog
import CumulusPostgres
import Foundation
import Logging

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
            AuditCommand.self, ReportCommand.self, RepairCommand.self, ServeCommand.self, TokenCommand.self,
            ODataCommand.self,
            CopyCommand.self,
        ]
    )
}

/// The data directory option every command shares.
struct DataDirectoryOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The log's directory (default: $CUMULUS_DATA_DIR or ./cumulus-data).")
    var dataDirectory: String?

    @Option(help: "The log: a directory or a postgres:// URL (default: $CUMULUS_STORE, else the data directory).")
    var store: String?

    @Option(
        name: .customLong("log-level"),
        help: "Log to standard error from this level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError(
                "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    var path: String {
        dataDirectory ?? ProcessInfo.processInfo.environment["CUMULUS_DATA_DIR"] ?? "cumulus-data"
    }

    /// The log's directory for the commands that work on LMDB only (`repair`, the verify walk, the demo's serving); a
    /// `postgres://` store is refused with a sentence.
    func lmdbDirectory() throws -> String {
        let text = storeText
        if PostgresLocation.isURL(text) {
            throw CommandFailure("this command works on an LMDB log only; --store names a PostgreSQL log")
        }
        return text
    }

    /// The logger `--log-level` asks for, or a silent one.
    var logger: Logger { CommandLineLogging.logger(level: logLevel.flatMap(Logger.Level.init(rawValue:))) }

    /// Opens the log as LMDB, for the commands that work on LMDB only (`serve`); a `postgres://` store is
    /// refused with a sentence.
    func open(
        create: Bool = false, durability: LMDBEventStore.Durability = .full, readOnly: Bool = false
    ) throws -> LMDBEventStore {
        let directory = try lmdbDirectory()
        DamageHandling.install()
        do {
            return try LMDBEventStore.open(
                directory: directory, options: .init(create: create, durability: durability, readOnly: readOnly),
                logger: logger)
        } catch {
            throw CommandFailure(error.description)
        }
    }
}

/// The tool's logging: nothing unless `--log-level` is given, then lines on standard error.
enum CommandLineLogging {
    private static let bootstrap: Void = LoggingSystem.bootstrap(StreamLogHandler.standardError)

    /// The logger for the store, the command handler and the projections at `level`, or a silent one.
    static func logger(level: Logger.Level?) -> Logger {
        guard let level else { return LMDBEventStore.silentLogger }
        _ = bootstrap
        var logger = Logger(label: "cumulus")
        logger.logLevel = level
        return logger
    }
}

/// A failure the tool reports as one line on standard error, exiting with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension AsyncParsableCommand {
    /// Runs `body`, turning a failure that describes itself (``CommandFailure``, the log's errors, the server's
    /// start and configuration errors) into `cumulus: <description>` on stderr and exit status 1.
    func reporting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch let error as any Error & CustomStringConvertible {
            StandardError.write("cumulus: \(error.description)\n")
            throw ExitCode.failure
        }
    }
}

/// The bytes of `file`, or of standard input when `file` is nil or `-`. They are not decoded here: each
/// line's UTF-8 is checked on its own (`JSONLines.split`), so a bad byte is refused with its line and offset.
func readInput(_ file: String?) throws -> [UInt8] {
    if let file, file != "-" {
        guard let contents = FileManager.default.contents(atPath: file) else {
            throw CommandFailure("cannot read \(file)")
        }
        return Array(contents)
    }
    return Array(FileHandle.standardInput.readDataToEndOfFile())
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
