import CumulusTesting
import Foundation
import Testing

/// Issue 14, items 8 and 9: only `init` (and `demo`) create a log; a storage failure mid-input reports what
/// was committed, and running the same input again stores nothing twice.
@Suite("Creating logs, failing mid-input and retrying")
struct RetryTests {
    let scratch = TemporaryDirectory(prefix: "cumulus-retry")
    var directory: String { scratch.path }

    func cumulus(
        _ arguments: [String], input: String? = nil
    ) async throws -> (status: Int32, output: String, error: String) {
        try await ChildProcess.run("cumulus", arguments, input: input.map { Data($0.utf8) })
    }

    /// Runs `cumulus ARGUMENTS` under `ulimit -f KIB` (bash counts 1 KiB blocks).
    func cumulusUnderFileLimit(
        kibibytes: Int, _ arguments: [String]
    ) async throws -> (status: Int32, output: String, error: String) {
        let tool = ChildProcess.buildDirectory.appendingPathComponent("cumulus").path
        return try await ChildProcess.runExecutable(
            "/bin/bash", ["-c", "ulimit -f \(kibibytes) && exec \"$@\"", "bash", tool] + arguments)
    }

    static let tenant = "6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11"
    static let createTenant =
        "{\"command\":\"createTenant\",\"actor\":\"systemAdmin\",\"occurredAt\":\"2026-11-20T08:01:00Z\","
        + "\"tenant\":\"\(tenant)\",\"name\":\"Contoso\",\"o365Domain\":\"contoso.onmicrosoft.com\","
        + "\"azureTenantId\":\"9a0c7a4e-3f1b-4c55-8d7e-0c1d2e3f4a5b\"}"

    @Test("import refuses a missing directory or an empty data.mdb instead of creating a log")
    func importCreatesNoLog() async throws {
        let mistyped = directory + "/a/b"
        let missing = try await cumulus(["import", "--data-dir", mistyped], input: Self.createTenant + "\n")
        #expect(missing.status == 1)
        #expect(
            missing.error.hasPrefix("cumulus: no Cumulus log at ")
                && missing.error.contains("/a/b; create one with `cumulus init`"), "\(missing.error)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/a"), "import created the directory")
        let empty = directory + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: empty + "/data.mdb", contents: Data()))
        for arguments in [["import"], ["init"], ["append"], ["read"]] {
            let input =
                arguments == ["append"]
                ? "{\"stream\":\"a\",\"type\":\"T\",\"actor\":\"x\"}\n" : Self.createTenant + "\n"
            let result = try await cumulus(arguments + ["--data-dir", empty], input: input)
            #expect(result.status == 1, "\(arguments): \(result.output)")
            #expect(result.error.contains("data.mdb is empty (0 bytes)"), "\(arguments): \(result.error)")
            let size = try FileManager.default.attributesOfItem(atPath: empty + "/data.mdb")[.size] as? Int
            #expect(size == 0, "\(arguments) re-initialised the empty data.mdb")
        }
        #expect(try await cumulus(["init", "--data-dir", mistyped]).status == 0)
        let imported = try await cumulus(["import", "--data-dir", mistyped], input: Self.createTenant + "\n")
        #expect(imported.status == 0 && imported.output.contains("accepted: 1 "), "\(imported.error)")
    }

    /// "committed: every line up to line L (last position P)" → (L, P).
    func committed(_ output: String) -> (line: Int, position: Int)? {
        guard let range = output.range(of: "committed: every line up to line ") else { return nil }
        let rest = output[range.upperBound...]
        let numbers = rest.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
    }

    @Test("append under a file-size limit reports what committed; the same input again stores no duplicate")
    func appendFailsMidInputAndRetriesSafely() async throws {
        #expect(try await cumulus(["init", "--data-dir", directory]).status == 0)
        let filler = String(repeating: "x", count: 900)
        let lines = (0..<3000).map { index in
            "{\"stream\":\"note-\(index % 50)\",\"type\":\"Noted\",\"actor\":\"a\",\"payloadText\":\"\(index) \(filler)\"}"
        }
        let file = directory + "/input.jsonl"
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let limited = try await cumulusUnderFileLimit(kibibytes: 2048, ["append", "--data-dir", directory, file])
        #expect(limited.status == 1, "\(limited.output) \(limited.error)")
        #expect(limited.error.contains("cumulus: storage error"), "\(limited.error)")
        let stored = try #require(committed(limited.output), "no summary of what committed: \(limited.output)")
        #expect(stored.line > 0 && stored.line < 3000 && stored.position == stored.line)
        let stats = try await cumulus(["stats", "--data-dir", directory, "--json"])
        #expect(stats.output.contains("\"events\":\(stored.position),"), "\(stats.output)")
        #expect(try await cumulus(["verify", "--data-dir", directory]).status == 0)
        let retry = try await cumulus(["append", "--data-dir", directory, file])
        #expect(retry.status == 0, "\(retry.error)")
        #expect(retry.output.contains("lines accepted: 3000, refused: 0, events appended: \(3000 - stored.line),"))
        let read = try await cumulus(["read", "--data-dir", directory])
        let ids = read.output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
        }
        #expect(ids.count == 3000 && Set(ids).count == 3000)
        let third = try await cumulus(["append", "--data-dir", directory, file])
        #expect(third.output.contains("events appended: 0,"), "\(third.output)")
    }

    @Test("import under a file-size limit reports what committed; the same input again stores no duplicate")
    func importFailsMidInputAndRetriesSafely() async throws {
        #expect(try await cumulus(["init", "--data-dir", directory]).status == 0)
        // 3,000 users without ids: their user ids and event ids are derived from the lines.
        let users = (0..<3000).map { index in
            "{\"command\":\"createUser\",\"actor\":\"systemAdmin\",\"occurredAt\":\"2026-11-20T09:"
                + String(format: "%02d:%02d", index / 60 % 60, index % 60) + "Z\",\"tenant\":\"\(Self.tenant)\","
                + "\"upn\":\"user\(index)@contoso.com\",\"displayName\":\"User Number \(index) with a longer name\"}"
        }
        let file = directory + "/users.jsonl"
        try Data(([Self.createTenant] + users).joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: file))
        let limited = try await cumulusUnderFileLimit(
            kibibytes: 1024, ["import", "--batch", "500", "--data-dir", directory, file])
        #expect(limited.status == 1, "\(limited.output) \(limited.error)")
        let stored = try #require(committed(limited.output), "no summary of what committed: \(limited.output)")
        #expect(stored.line > 1 && stored.line < 3001)
        let retry = try await cumulus(["import", "--batch", "500", "--data-dir", directory, file])
        #expect(retry.status == 0, "\(retry.error)")
        #expect(retry.output.contains("duplicates: \(stored.line),"), "\(retry.output)")
        let read = try await cumulus(["read", "--data-dir", directory])
        let created = read.output.split(separator: "\n").filter { $0.contains("\"type\":\"UserCreated\"") }
        #expect(created.count == 3000)
        let third = try await cumulus(["import", "--data-dir", directory, file])
        #expect(third.output.contains("duplicates: 3001, events appended: 0"), "\(third.output)")
    }
}
