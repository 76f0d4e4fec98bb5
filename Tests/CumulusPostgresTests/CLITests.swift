import CumulusLMDB
import CumulusLog
import CumulusPostgres
import CumulusTesting
import Foundation
import Testing

/// `--store postgres://…` on the CLI, and `cumulus copy` between the backends, run as the built binary.
@Suite("PostgreSQL on the CLI", .enabled(if: TestServer.enabled, TestServer.skipReason))
struct CLITests {
    /// An LMDB log of `count` events over 37 streams, some with correlation and causation ids, and a checkpoint.
    func lmdbLog(_ count: Int) async throws -> String {
        let directory = TemporaryEventLog.makeDirectory(prefix: "cumulus-copy")
        let store = try LMDBEventStore.open(directory: directory, options: .init(create: true, durability: .deferred))
        var written = 0
        var batch = 0
        while written < count {
            var events = SampleEvents.make(min(5, count - written), label: "c\(batch)")
            events[0].correlationID = UUID()
            if events.count > 1 { events[1].causationID = UUID() }
            _ = try await store.append(events, to: StreamName("user-\(batch % 37)"))
            written += events.count
            batch += 1
        }
        try await store.save(Checkpoint(name: "current-state", position: GlobalPosition(7), state: [1, 2]))
        store.close()
        return directory
    }

    /// The `chain head:` line of `cumulus verify` on `store` (a directory or a URL).
    func chainHead(_ store: String) async throws -> String {
        let run = try await ChildProcess.run("cumulus", ["verify", "--store", store])
        #expect(run.status == 0, "verify \(store): \(run.error)")
        return run.output.split(separator: "\n").first { $0.hasPrefix("chain head: ") }.map(String.init) ?? "none"
    }

    @Test func commandsWorkOnAPostgresStore() async throws {
        let location = try TestServer.freshLocation("cli")
        let url = location.url
        let initialised = try await ChildProcess.run("cumulus", ["init", "--store", url])
        #expect(initialised.status == 0 && initialised.output.contains("log ready at \(location.description)"))
        #expect(!initialised.output.contains(location.password ?? "?"))
        let lines = """
            {"stream":"notes-1","type":"Noted","actor":"systemAdmin","payload":{"n":1}}
            {"stream":"notes-2","type":"Noted","actor":"systemAdmin","payload":{"n":2}}
            """
        let appended = try await ChildProcess.run("cumulus", ["append", "--store", url], input: Data(lines.utf8))
        #expect(appended.status == 0, "\(appended.output) \(appended.error)")
        let read = try await ChildProcess.run("cumulus", ["read", "--store", url])
        #expect(read.status == 0 && read.output.split(separator: "\n").count == 2, "\(read.output) \(read.error)")
        let stats = try await ChildProcess.run("cumulus", ["stats", "--store", url, "--json"])
        #expect(stats.output.contains("\"events\":2"), "\(stats.output)")
        #expect(try await chainHead(url).count == 12 + 64)
    }

    @Test func theDemoRunsOnPostgres() async throws {
        let url = try TestServer.freshLocation("demo").url
        let small = ["--store", url, "--tenants", "1", "--users-per-tenant", "10", "--days", "1"]
        let run = try await ChildProcess.run("cumulus", ["demo"] + small)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains(", 0 refused") && run.output.contains("hash chain verified"), "\(run.output)")
        let rebuilt = try await ChildProcess.run("cumulus", ["rebuild", "--store", url, "--all"])
        #expect(rebuilt.status == 0 && rebuilt.output.contains("current-state: rebuilt from position 0"))
    }

    @Test func aWrongPasswordOnTheCLIIsOneLineAndExitStatus1() async throws {
        var location = try TestServer.freshLocation("clipw")
        location.password = "wrong-\(UInt32.random(in: 0...UInt32.max))"
        let run = try await ChildProcess.run("cumulus", ["verify", "--store", location.url])
        #expect(run.status == 1)
        let lines = run.error.split(separator: "\n")
        #expect(lines.count == 1 && run.error.contains("password authentication failed"), "\(run.error)")
        #expect(!run.error.contains(location.password ?? "?"))
    }

    @Test func copyKeepsPositionsIdsTimesAndTheChainBothWays() async throws {
        let directory = try await lmdbLog(600)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try TestServer.freshLocation("copy")
        let copied = try await ChildProcess.run("cumulus", ["copy", "--from", directory, "--to", location.url])
        #expect(copied.status == 0, "\(copied.output) \(copied.error)")
        let head = try await chainHead(directory)
        #expect(head.count == 12 + 64)
        #expect(try await chainHead(location.url) == head)
        let back = TemporaryEventLog.makeDirectory(prefix: "cumulus-copy-back")
        defer { try? FileManager.default.removeItem(atPath: back) }
        let returned = try await ChildProcess.run("cumulus", ["copy", "--from", location.url, "--to", back])
        #expect(returned.status == 0, "\(returned.error)")
        #expect(try await chainHead(back) == head)
        let original = try LMDBEventStore.open(directory: directory)
        defer { original.close() }
        let postgres = try await PostgresEventStore.open(location)
        defer { postgres.close() }
        let expected = try await original.readAll(after: .start, maximumCount: 1000)
        #expect(try await postgres.readAll(after: .start, maximumCount: 1000) == expected)
        // A non-empty target is refused and left as it was.
        let again = try await ChildProcess.run("cumulus", ["copy", "--from", directory, "--to", location.url])
        #expect(again.status == 1 && again.error.contains("holds 600 events already"), "\(again.error)")
        #expect(try await postgres.lastPosition() == GlobalPosition(600))
    }

    @Test func anInterruptedCopyResumes() async throws {
        let directory = try await lmdbLog(1500)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try TestServer.freshLocation("resume")
        let copy = try ChildProcess("cumulus", ["copy", "--from", directory, "--to", location.url, "--batch", "1"])
        // Kill the copy once part of the log has arrived.
        var store: PostgresEventStore?
        var reached = GlobalPosition.start
        for _ in 0..<400 {
            try await Task.sleep(for: .milliseconds(25))
            if store == nil { store = try? await PostgresEventStore.open(location) }
            if let store { reached = try await store.lastPosition() }
            if reached >= GlobalPosition(50) { break }
        }
        copy.kill()
        defer { store?.close() }
        #expect(reached >= GlobalPosition(50) && reached < GlobalPosition(1500), "the copy was at \(reached)")
        let refused = try await ChildProcess.run("cumulus", ["copy", "--from", directory, "--to", location.url])
        #expect(refused.status == 1 && refused.error.contains("--resume"), "\(refused.error)")
        let resumed = try await ChildProcess.run(
            "cumulus", ["copy", "--from", directory, "--to", location.url, "--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(try await chainHead(location.url) == chainHead(directory))
        // Resuming from another log is refused.
        let other = try await lmdbLog(10)
        defer { try? FileManager.default.removeItem(atPath: other) }
        let foreign = try await ChildProcess.run(
            "cumulus", ["copy", "--from", other, "--to", location.url, "--resume"])
        #expect(foreign.status == 1 && foreign.error.contains("is not a partial copy"), "\(foreign.error)")
        let itself = try await ChildProcess.run(
            "cumulus", ["copy", "--from", location.url, "--to", location.url, "--resume"])
        #expect(itself.status == 1 && itself.error.contains("onto itself"), "\(itself.error)")
        #expect(!itself.error.contains(location.password ?? "?"))
    }
}
