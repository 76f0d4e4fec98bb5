public import Foundation

/// Runs an executable built next to the running test binary (`cumulus`, `cumulus-torture`) as a child
/// process, for end-to-end, crash and multi-process tests.
public final class ChildProcess: @unchecked Sendable {
    /// The running process.
    public let process = Process()
    /// Standard output and standard error go to two files, read back when asked: no pipe to drain and no
    /// readability handler. (Pipes drained by `readabilityHandler` put a dispatch source on each descriptor; on
    /// Linux, a source still registered when its descriptor is closed and reused can crash libdispatch's event
    /// loop — a test run died once that way, with no frame of ours on the crashing thread.)
    private let outputPath: String
    private let errorPath: String

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
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("cumulus-child-\(UUID().uuidString)")
        outputPath = base.path + ".out"
        errorPath = base.path + ".err"
        guard FileManager.default.createFile(atPath: outputPath, contents: nil),
            FileManager.default.createFile(atPath: errorPath, contents: nil),
            let output = FileHandle(forWritingAtPath: outputPath),
            let errors = FileHandle(forWritingAtPath: errorPath)
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: outputPath])
        }
        defer {
            try? output.close()
            try? errors.close()
        }
        process.standardOutput = output
        process.standardError = errors
        let inputPipe = Pipe()
        process.standardInput = inputPipe
        try process.run()
        if let input { inputPipe.fileHandleForWriting.write(input) }
        try inputPipe.fileHandleForWriting.close()
    }

    deinit {
        try? FileManager.default.removeItem(atPath: outputPath)
        try? FileManager.default.removeItem(atPath: errorPath)
    }

    /// Everything written to standard output so far.
    public var standardOutput: String {
        String(decoding: FileManager.default.contents(atPath: outputPath) ?? Data(), as: UTF8.self)
    }

    /// Everything written to standard error so far.
    public var standardError: String {
        String(decoding: FileManager.default.contents(atPath: errorPath) ?? Data(), as: UTF8.self)
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
    }

    /// Waits for the process to exit (killing it after `timeout` seconds) and returns its exit status.
    @discardableResult
    public func wait(timeout: Double = 120) async -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        if process.isRunning { kill() }
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
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
