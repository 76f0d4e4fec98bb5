import Foundation

/// The coordinator's handle on one worker: a child process of this same executable, spoken to in JSON lines.
final class WorkerProcess {
    let contender: Contender
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffered: [UInt8] = []

    /// Starts `cumulus-bench worker <setup JSON>`.
    init(_ setup: WorkerSetup) throws {
        contender = setup.contender
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        process.executableURL = URL(fileURLWithPath: executable)
        let json = try JSONEncoder().encode(setup)
        process.arguments = ["worker", String(decoding: json, as: UTF8.self)]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
    }

    /// Waits for the worker's set-up to finish.
    func waitUntilReady() throws {
        _ = try readLine()
    }

    /// Sends a command and decodes the answer.
    func send<Answer: Decodable>(_ command: WorkerCommand, expecting: Answer.Type) throws -> Answer {
        let data = try JSONEncoder().encode(command) + Data("\n".utf8)
        input.fileHandleForWriting.write(data)
        let line = try readLine()
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(line))
        } catch {
            throw BenchError(
                "\(contender.rawValue) worker answered '\(String(decoding: line, as: UTF8.self))': \(error)")
        }
    }

    /// Waits for the worker to exit after `finish`.
    func waitForExit() throws {
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("\(contender.rawValue) worker exited with status \(process.terminationStatus)")
        }
    }

    /// Ends a worker that is still running after a failure.
    func terminate() {
        if process.isRunning { process.terminate() }
    }

    private func readLine() throws -> [UInt8] {
        let descriptor = output.fileHandleForReading.fileDescriptor
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffered[..<newline])
                buffered.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                process.waitUntilExit()
                throw BenchError(
                    "the \(contender.rawValue) worker stopped (status \(process.terminationStatus)); see its error above"
                )
            }
            buffered += chunk[..<count]
        }
    }
}
