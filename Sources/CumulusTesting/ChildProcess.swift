public import Foundation

/// Runs an executable built next to the running test binary (`cumulus`, `cumulus-torture`) as a child
/// process, for end-to-end, crash and multi-process tests.
public final class ChildProcess: @unchecked Sendable {
    /// The running process.
    public let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let lock = NSLock()
    private var collected = Data()
    private var collectedErrors = Data()

    /// The directory holding the executables of the current build (the test binary's own directory).
    public static var buildDirectory: URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // On Linux the test binary is `<build>/CumulusPackageTests.xctest`; on macOS it sits inside a bundle.
        while directory.path != "/"
            && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("cumulus").path)
        {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }

    /// Starts `tool` (an executable of this build, or an absolute path) with `arguments`, feeding it `input` on
    /// standard input when given.
    public init(_ tool: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil) throws
    {
        process.executableURL =
            tool.hasPrefix("/") ? URL(fileURLWithPath: tool) : Self.buildDirectory.appendingPathComponent(tool)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = output
        process.standardError = errors
        let inputPipe = Pipe()
        process.standardInput = inputPipe
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            self.collected.append(data)
            self.lock.unlock()
        }
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            self.collectedErrors.append(data)
            self.lock.unlock()
        }
        try process.run()
        if let input { inputPipe.fileHandleForWriting.write(input) }
        try inputPipe.fileHandleForWriting.close()
    }

    /// Everything written to standard output so far.
    public var standardOutput: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    /// Everything written to standard error so far.
    public var standardError: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collectedErrors, as: UTF8.self)
    }

    /// Waits until standard output contains `text`, up to `timeout` seconds; false on time-out or exit.
    public func waitForOutput(containing text: String, timeout: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if standardOutput.contains(text) { return true }
            if !process.isRunning { return standardOutput.contains(text) }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// Kills the process with SIGKILL (no chance to clean up) and waits for it.
    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        drain()
    }

    /// Waits for the process to exit (killing it after `timeout` seconds) and returns its exit status.
    @discardableResult
    public func wait(timeout: Double = 120) async -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        if process.isRunning { kill() }
        process.waitUntilExit()
        drain()
        return process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
    }

    private func drain() {
        output.fileHandleForReading.readabilityHandler = nil
        errors.fileHandleForReading.readabilityHandler = nil
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        let restErrors = errors.fileHandleForReading.readDataToEndOfFile()
        lock.lock()
        collected.append(rest)
        collectedErrors.append(restErrors)
        lock.unlock()
    }

    /// Runs any executable (by absolute path) to completion and returns (exit status, stdout, stderr).
    public static func runExecutable(
        _ path: String,
        _ arguments: [String],
        timeout: Double = 120
    ) async throws -> (status: Int32, output: String, error: String) {
        try await run(path, arguments, timeout: timeout)
    }

    /// Runs a tool to completion and returns (exit status, stdout, stderr).
    public static func run(
        _ tool: String,
        _ arguments: [String],
        input: Data? = nil,
        timeout: Double = 120
    ) async throws -> (status: Int32, output: String, error: String) {
        let child = try ChildProcess(tool, arguments, input: input)
        let status = await child.wait(timeout: timeout)
        return (status, child.standardOutput, child.standardError)
    }
}
