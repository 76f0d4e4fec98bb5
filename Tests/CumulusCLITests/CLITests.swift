import CumulusTesting
import Foundation
import Testing

/// Runs the built `cumulus` binary and checks what it prints and what it leaves in the log.
@Suite("cumulus command line")
struct CLITests {
    let scratch = TemporaryDirectory(prefix: "cumulus-cli")
    var directory: String { scratch.path }

    func cumulus(
        _ arguments: String..., input: String? = nil
    ) async throws -> (status: Int32, output: String, error: String) {
        try await ChildProcess.run("cumulus", arguments, input: input.map { Data($0.utf8) })
    }

    func lines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test func initAppendReadVerifyStats() async throws {
        let created = try await cumulus("init", "--data-dir", directory)
        #expect(created.status == 0 && created.output.contains("0 events"))
        let input = """
            {"stream":"notes-1","type":"Noted","actor":"systemAdmin","expectedVersion":"noStream","payload":{"upn":"a@b.c"}}
            {"stream":"notes-1","type":"Seen","actor":"presenceFeed:t","expectedVersion":1,"payloadText":"Busy"}

            {"stream":"notes-2","expectedVersion":"noStream","events":[{"type":"A","actor":"x"},{"type":"B","actor":"x"}]}
            """
        let appended = try await cumulus("append", "--data-dir", directory, input: input)
        #expect(appended.status == 0, "\(appended.error)")
        #expect(appended.output.contains("lines accepted: 3, refused: 0, events appended: 4"))
        let all = lines(try await cumulus("read", "--data-dir", directory).output)
        #expect(all.map { $0["position"] as? Int } == [1, 2, 3, 4])
        #expect(all.map { $0["type"] as? String } == ["Noted", "Seen", "A", "B"])
        #expect(all[1]["payloadText"] as? String == "Busy")
        let stream = lines(
            try await cumulus("read", "--data-dir", directory, "--stream", "notes-1", "--from-version", "2").output)
        #expect(stream.count == 1 && stream[0]["streamVersion"] as? Int == 2)
        let after = lines(try await cumulus("read", "--data-dir", directory, "--after", "2", "--limit", "1").output)
        #expect(after.map { $0["position"] as? Int } == [3])
        let verified = try await cumulus("verify", "--data-dir", directory)
        #expect(verified.status == 0 && verified.output.contains("log is sound: 4 events in 2 streams"))
        let stats = try await cumulus("stats", "--data-dir", directory, "--json")
        let figures = try #require(lines(stats.output).first)
        #expect(
            figures["events"] as? Int == 4 && figures["streams"] as? Int == 2 && figures["lastPosition"] as? Int == 4)
        // What `read` prints can be appended again: the ids make it an idempotent no-op.
        let replay = try await cumulus("read", "--data-dir", directory)
        let again = try await cumulus("append", "--data-dir", directory, input: replay.output)
        #expect(again.status == 0 && again.output.contains("events appended: 0"), "\(again.output) \(again.error)")
    }

    /// A chain head written down by an auditor proves later that the log still holds that history: after more
    /// appends it still matches; a log whose history differs at or before it (here written afresh, so its own chain
    /// is sound and the walk passes) and a log that ends before it are refused with a sentence and exit status 1.
    @Test func aRecordedChainHeadProvesTheHistoryUnchanged() async throws {
        func line(_ number: Int, _ text: String) -> String {
            "{\"stream\":\"notes-\(number % 2)\",\"type\":\"Noted\",\"actor\":\"systemAdmin\",\"payloadText\":\"\(text)\"}"
        }
        let first = (1...4).map { line($0, "entry \($0)") }.joined(separator: "\n")
        _ = try await cumulus("init", "--data-dir", directory)
        #expect(try await cumulus("append", "--data-dir", directory, input: first).status == 0)
        let verified = try await cumulus("verify", "--data-dir", directory)
        let hint = try #require(verified.output.split(separator: "\n").first { $0.contains("--expect-head") })
        let recorded = try #require(hint.split(separator: " ").last.map(String.init))
        let head = try #require(verified.output.split(separator: "\n").first { $0.hasPrefix("chain head: ") })
        #expect(recorded == "4:" + head.dropFirst("chain head: ".count))
        // More events later: the recorded head still holds (in upper case too, as some tools write hex).
        _ = try await cumulus("append", "--data-dir", directory, input: line(5, "entry 5") + "\n" + line(6, "entry 6"))
        let later = try await cumulus("verify", "--data-dir", directory, "--expect-head", recorded.uppercased())
        #expect(later.status == 0, "\(later.error)")
        #expect(later.output.contains("recorded head at position 4: the same"))
        // The same history but for one entry, written into another log: its chain is sound, the history is not the
        // one recorded.
        let other = TemporaryEventLog.makeDirectory(prefix: "cumulus-cli-other")
        defer { try? FileManager.default.removeItem(atPath: other) }
        let rewritten = (1...6).map { line($0, $0 == 3 ? "entry 3, changed" : "entry \($0)") }.joined(separator: "\n")
        _ = try await cumulus("init", "--data-dir", other)
        #expect(try await cumulus("append", "--data-dir", other, input: rewritten).status == 0)
        let changed = try await cumulus("verify", "--data-dir", other, "--expect-head", recorded)
        #expect(changed.status == 1)
        #expect(changed.output.contains("log is sound: 6 events"), "the walk itself passes: \(changed.output)")
        #expect(
            changed.error.contains("the chain link at position 4 is ")
                && changed.error.contains("not the recorded \(recorded.dropFirst(2))"), "\(changed.error)")
        // A log that ends before the recorded position.
        let short = TemporaryEventLog.makeDirectory(prefix: "cumulus-cli-short")
        defer { try? FileManager.default.removeItem(atPath: short) }
        _ = try await cumulus("init", "--data-dir", short)
        _ = try await cumulus(
            "append", "--data-dir", short, input: (1...3).map { line($0, "entry \($0)") }.joined(separator: "\n"))
        let ended = try await cumulus("verify", "--data-dir", short, "--expect-head", recorded)
        #expect(
            ended.status == 1
                && ended.error.contains("the log ends at position 3, before the recorded head at position 4"))
        // A malformed expectation is refused before any walk.
        for bad in ["4", "0:" + recorded.dropFirst(2), "4:abc", "x:" + recorded.dropFirst(2)] {
            let refused = try await cumulus("verify", "--data-dir", directory, "--expect-head", bad)
            #expect(
                refused.status == 1 && refused.error.contains("--expect-head '") && refused.output.isEmpty, "\(bad)")
        }
    }

    @Test func aMalformedLineRefusesTheWholeInput() async throws {
        _ = try await cumulus("init", "--data-dir", directory)
        let input = """
            {"stream":"notes-1","type":"T","actor":"a"}
            {"stream":"notes-1","type":"T"
            {"stream":"notes-1","actor":"a"}
            """
        let result = try await cumulus("append", "--data-dir", directory, input: input)
        #expect(result.status == 1)
        #expect(result.error.contains("line 2: not a JSON object"))
        #expect(result.error.contains("line 3: missing field 'type'"))
        #expect(result.error.contains("nothing was appended"))
        #expect(try await cumulus("read", "--data-dir", directory).output.isEmpty)
    }

    @Test func aRefusedLineIsNamedAndAppendsNothing() async throws {
        _ = try await cumulus("init", "--data-dir", directory)
        let input = """
            {"stream":"notes-1","type":"T","actor":"a","expectedVersion":"noStream"}
            {"stream":"notes-1","type":"T","actor":"a","expectedVersion":"noStream"}
            {"stream":"notes-2","type":"T","actor":"a","expectedVersion":"noStream"}
            """
        let result = try await cumulus("append", "--data-dir", directory, input: input)
        #expect(result.status == 1)
        #expect(result.error.contains("line 2: stream 'notes-1' is at version 1, the append expected no stream"))
        #expect(result.output.contains("lines accepted: 2, refused: 1, events appended: 2"))
        #expect(lines(try await cumulus("read", "--data-dir", directory).output).count == 2)
    }

    @Test func atomicAppendIsAllOrNothing() async throws {
        _ = try await cumulus("init", "--data-dir", directory)
        let input = """
            {"stream":"notes-1","type":"T","actor":"a","expectedVersion":"noStream"}
            {"stream":"notes-2","type":"T","actor":"a","expectedVersion":5}
            """
        let refused = try await cumulus("append", "--data-dir", directory, "--atomic", input: input)
        #expect(refused.status == 1 && refused.error.contains("(line 2)"), "\(refused.error)")
        #expect(try await cumulus("read", "--data-dir", directory).output.isEmpty)
        let accepted = try await cumulus(
            "append", "--data-dir", directory, "--atomic",
            input: input.replacingOccurrences(of: "\"expectedVersion\":5", with: "\"expectedVersion\":\"any\"")
        )
        #expect(accepted.status == 0 && accepted.output.contains("appended 2 events in one transaction"))
    }

    @Test func tailFollowsAppendsFromAnotherProcess() async throws {
        _ = try await cumulus("init", "--data-dir", directory)
        let tail = try ChildProcess("cumulus", ["tail", "--data-dir", directory, "--after", "0", "--count", "3"])
        try await Task.sleep(for: .milliseconds(200))
        for index in 0..<3 {
            let line = "{\"stream\":\"notes-\(index)\",\"type\":\"T\",\"actor\":\"a\"}"
            #expect(try await cumulus("append", "--data-dir", directory, input: line).status == 0)
        }
        #expect(await tail.wait(timeout: 30) == 0, "\(tail.standardError)")
        #expect(lines(tail.standardOutput).map { $0["stream"] as? String } == ["notes-0", "notes-1", "notes-2"])
    }

    @Test func readAndTailRefuseAPositionPastTheEndOfTheLog() async throws {
        _ = try await cumulus("init", "--data-dir", directory)
        let two =
            "{\"stream\":\"notes-1\",\"type\":\"T\",\"actor\":\"a\"}\n{\"stream\":\"notes-2\",\"type\":\"T\",\"actor\":\"a\"}"
        #expect(try await cumulus("append", "--data-dir", directory, input: two).status == 0)
        // The last position is where a caught-up reader stands: nothing after it yet, and no error.
        let caughtUp = try await cumulus("read", "--data-dir", directory, "--after", "2")
        #expect(caughtUp.status == 0 && caughtUp.output.isEmpty, "\(caughtUp.error)")
        for command in ["read", "tail"] {
            // Past it, a position from another log (or from before a restore) would skip the events up to it.
            let past = try await cumulus(command, "--data-dir", directory, "--after", "3")
            #expect(past.status == 1 && past.output.isEmpty, "\(command): \(past.output)")
            #expect(
                past.error.contains("--after 3 is past the end of the log (its last position is 2)"),
                "\(command): \(past.error)")
        }
        let tail = try await cumulus("tail", "--data-dir", directory, "--after", "1", "--count", "1")
        #expect(tail.status == 0 && lines(tail.output).map { $0["stream"] as? String } == ["notes-2"])
        // Values out of range are named, not read as the nearest sensible one.
        for (arguments, message) in [
            (["read", "--stream", "notes-1", "--from-version", "0"], "--from-version must be 1 or more"),
            (["read", "--limit=-1"], "--limit must be 0 or more"),
            (["tail", "--count=-1"], "--count must be 0 or more"),
        ] {
            let refused = try await ChildProcess.run("cumulus", arguments + ["--data-dir", directory])
            #expect(
                refused.status == 1 && refused.output.isEmpty && refused.error.contains(message), "\(refused.error)")
        }
    }

    @Test func aLogIsNotCopiedOntoItself() async throws {
        _ = try await cumulus("init", "--data-dir", directory)
        let line = "{\"stream\":\"notes-1\",\"type\":\"T\",\"actor\":\"a\"}"
        #expect(try await cumulus("append", "--data-dir", directory, input: line).status == 0)
        // Spelt another way, with --resume: it used to report "copied … 1 events".
        let same = try await cumulus("copy", "--from", directory, "--to", directory + "/./", "--resume")
        #expect(same.status == 1 && same.error.contains("a log cannot be copied onto itself"), "\(same.error)")
        let copy = try await cumulus("copy", "--from", directory, "--to", directory + "/copy")
        #expect(copy.status == 0 && copy.output.contains(": 1 events"), "\(copy.error)")
    }

    @Test func errorsNameTheDirectoryAndExitNonZero() async throws {
        let missing = try await cumulus("read", "--data-dir", directory + "/nothing-here")
        #expect(
            missing.status == 1 && missing.error.contains("no Cumulus log at") && missing.error.contains("cumulus init")
        )
        try Data("hello".utf8).write(to: URL(fileURLWithPath: directory + "/readme.txt"))
        let foreign = try await cumulus("init", "--data-dir", directory)
        #expect(foreign.status == 1 && foreign.error.contains("is not a Cumulus log"))
        #expect(FileManager.default.contents(atPath: directory + "/readme.txt") == Data("hello".utf8))
        let badStream = try await cumulus("read", "--data-dir", directory, "--stream", "")
        #expect(badStream.status == 1)
    }

    @Test func demoBuildsAWorldAndReusesItOnASecondRun() async throws {
        let small = [
            "--data-dir", directory, "--tenants", "2", "--users-per-tenant", "30", "--days", "2", "--no-serve",
        ]
        let first = try await ChildProcess.run("cumulus", ["demo"] + small)
        #expect(first.status == 0, "\(first.error)")
        #expect(first.output.contains("building the demo world: 2 tenants, 20 services, 60 users"))
        #expect(first.output.contains(", 0 refused"), "\(first.output)")
        #expect(first.output.contains("duplicate deliveries stored once"))
        #expect(first.output.contains("hash chain verified"))
        let second = try await ChildProcess.run("cumulus", ["demo"] + small)
        #expect(second.status == 0 && second.output.contains("reusing the log"))
        #expect(second.output.contains("hash chain verified"))
    }
}
