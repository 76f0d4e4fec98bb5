import CumulusTesting
import Foundation
import Testing

/// `--log-level` sends the store's log lines to standard error; without it the tool logs nothing.
@Suite("cumulus --log-level")
struct LogLevelTests {
    let scratch = TemporaryDirectory(prefix: "cumulus-log-level")
    var directory: String { scratch.path }

    func cumulus(
        _ arguments: String..., input: String? = nil
    ) async throws -> (
        status: Int32, output: String, error: String
    ) {
        try await ChildProcess.run("cumulus", arguments, input: input.map { Data($0.utf8) })
    }

    @Test func logsGoToStandardErrorOnlyWhenAsked() async throws {
        // Not a domain stream (raw appends may not write those), and two lines, so that the second run appends
        // (the same line again would be recognised as stored by its derived id).
        let input = #"{"stream":"notes-1","type":"T","actor":"a","payloadText":"private-payload"}"#
        let second = #"{"stream":"notes-1","type":"T","actor":"a","payloadText":"private-payload-2"}"#
        #expect(try await cumulus("init", "--data-dir", directory).status == 0)
        let quiet = try await cumulus("append", "--data-dir", directory, input: input)
        #expect(quiet.status == 0 && quiet.error.isEmpty, "\(quiet.error)")
        let loud = try await cumulus("append", "--data-dir", directory, "--log-level", "trace", input: second)
        #expect(loud.status == 0, "\(loud.error)")
        #expect(loud.error.contains("opened the log") && loud.error.contains("group committed"), "\(loud.error)")
        #expect(!loud.error.contains("private-payload"))
        #expect(loud.output.contains("events appended"), "the ordinary output stays on standard output")
        let wrong = try await cumulus("stats", "--data-dir", directory, "--log-level", "chatty")
        #expect(wrong.status != 0 && wrong.error.contains("--log-level must be one of"), "\(wrong.error)")
    }
}
