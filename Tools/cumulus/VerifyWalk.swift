import ArgumentParser
import Foundation

/// `cumulus verify` walks the log in a child process (`cumulus verify --walk`, this same binary): damage that
/// makes LMDB assert or fault kills at most the child, and the parent still names it.
///
/// The child prints its report on standard output, its errors (and, for a fault or an assertion, the
/// position and page it had reached) on standard error, which it shares with the parent; on standard output
/// it also sends progress lines (`\u{1}total N`, `\u{1}done N`), which the parent turns into the progress line.
enum VerifyWalk {
    private static let marker = "\u{1}"

    /// In the child: the number of events to walk.
    static func reportTotal(_ total: UInt64) {
        FileHandle.standardOutput.write(Data("\(marker)total \(total)\n".utf8))
    }

    /// In the child: how far the walk is (called every 65,536 events and at the end).
    @Sendable static func reportProgress(_ done: UInt64) {
        FileHandle.standardOutput.write(Data("\(marker)done \(done)\n".utf8))
    }

    /// In the parent: runs the walk in a child process and reports how it ended.
    static func runInChild(directory: String, arguments: [String] = []) async throws {
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let process = Process()
        process.executableURL = executable
        process.arguments = ["verify", "--walk", "--data-dir", directory] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        do {
            try process.run()
        } catch {
            throw CommandFailure("cannot start the verify walk (\(executable.path)): \(error)")
        }
        // Reading the pipe and waiting block: done on a thread of its own, not on the task pool.
        let ended = await withCheckedContinuation { (continuation: CheckedContinuation<Ended, Never>) in
            let thread = Thread {
                continuation.resume(returning: relay(output.fileHandleForReading, process: process))
            }
            thread.start()
        }
        switch ended.reason {
        case .exit:
            if ended.status != 0 { throw ExitCode(ended.status) }
        case .uncaughtSignal:
            throw CommandFailure(
                "the log at \(directory) is damaged: the storage engine crashed (signal \(ended.status)) while "
                    + "verify walked it, after position \(ended.lastProgress) (its last progress report); "
                    + "restore data.mdb from a backup")
        @unknown default:
            throw ExitCode.failure
        }
    }

    private struct Ended: Sendable {
        let reason: Process.TerminationReason
        let status: Int32
        let lastProgress: UInt64
    }

    /// Copies the child's report to standard output and its progress to the progress line, until it ends.
    private static func relay(_ pipe: FileHandle, process: Process) -> Ended {
        var progress: ProgressLine?
        var lastProgress: UInt64 = 0
        var pending = Data()
        var output = OutputBuffer()
        func handle(line: String) {
            if line.hasPrefix(marker + "total ") {
                progress = ProgressLine("verifying", total: UInt64(line.dropFirst(marker.count + 6)) ?? 0)
            } else if line.hasPrefix(marker + "done ") {
                lastProgress = UInt64(line.dropFirst(marker.count + 5)) ?? lastProgress
                progress?.update(lastProgress)
            } else {
                output.line(line)
            }
        }
        while true {
            let chunk = pipe.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                handle(line: String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
        if !pending.isEmpty { handle(line: String(decoding: pending, as: UTF8.self)) }
        process.waitUntilExit()
        if process.terminationReason == .exit && process.terminationStatus == 0 { progress?.finish(lastProgress) }
        output.flush()
        return Ended(reason: process.terminationReason, status: process.terminationStatus, lastProgress: lastProgress)
    }
}
