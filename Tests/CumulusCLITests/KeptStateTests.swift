import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// Kept state from the command line: queries open the log read-only, catch up in memory and write nothing (even
/// when the log has moved on past the checkpoints, even in a read-only directory); `import` keeps the write model;
/// a checkpoint that cannot be used is named on standard error and rebuilt.
@Suite("Kept state from the command line")
struct KeptStateTests {
    /// A small demo world (its checkpoints saved by `demo`), one of its tenants and one of its users.
    func world() async throws -> (path: String, tenant: String, user: String) {
        let path = TemporaryEventLog.makeDirectory(prefix: "cumulus-kept")
        let demo = try await cumulus(
            ["demo", "--tenants", "1", "--users-per-tenant", "6", "--days", "1", "--no-serve"], path)
        try #require(demo.status == 0, "\(demo.error)")
        let tenant = try #require(
            demo.output.split(separator: "\n").compactMap { line -> String? in
                guard let range = line.range(of: ", id ") else { return nil }
                return String(line[range.upperBound...].dropLast())
            }.first)
        let read = try await cumulus(["read", "--limit", "400"], path)
        let userLine = try #require(
            read.output.split(separator: "\n").first { $0.contains("\"type\":\"UserCreated\"") })
        let stream = try #require(userLine.range(of: "\"stream\":\"user-"))
        let user = String(userLine[stream.upperBound...].prefix(36))
        return (path, tenant, user)
    }

    func cumulus(
        _ arguments: [String], _ path: String, input: String? = nil
    ) async throws -> (status: Int32, output: String, error: String) {
        try await ChildProcess.run("cumulus", arguments + ["--data-dir", path], input: input.map { Data($0.utf8) })
    }

    func presence(_ user: String, tenant: String, _ availability: String, activity: String) -> String {
        """
        {"command":"recordPresence","actor":"presenceFeed:\(tenant)","occurredAt":"2031-01-01T10:00:00Z",\
        "user":"\(user)","availability":"\(availability)","activity":"\(activity)"}
        """
    }

    @Test func queriesOnALogThatMovedOnWriteNothingAndWorkInAReadOnlyDirectory() async throws {
        let (path, tenant, user) = try await world()
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The log moves on past the projections' checkpoints.
        let imported = try await cumulus(
            ["import"], path, input: presence(user, tenant: tenant, "DoNotDisturb", activity: "Presenting"))
        #expect(imported.status == 0, "\(imported.error)")
        let dataFile = path + "/data.mdb"
        let before = try Data(contentsOf: URL(fileURLWithPath: dataFile))
        // Read-only: the directory and the data file (root ignores the modes; the bytes are compared anyway).
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: dataFile)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: path)
        defer {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dataFile)
        }
        let state = try await cumulus(["state", "user", user], path)
        #expect(state.status == 0, "\(state.error)")
        // Caught up in memory: the presence imported after the checkpoint is shown.
        #expect(state.output.contains("Presenting"), "\(state.output)")
        let queries: [[String]] = [
            ["state", "tenant", tenant], ["audit", "user", user], ["report", "licences"],
            ["report", "licences", "--tenant", tenant],
            ["report", "user-states", "--tenant", tenant, "--actor", "userSupervisor:\(tenant)"],
            ["report", "time-in-state", "--tenant", tenant, "--actor", "userSupervisor:\(tenant)"],
        ]
        for query in queries {
            let result = try await cumulus(query, path)
            #expect(result.status == 0, "\(query): \(result.error)")
            #expect(result.error.isEmpty, "\(query): \(result.error)")
        }
        let after = try Data(contentsOf: URL(fileURLWithPath: dataFile))
        #expect(after == before, "a query changed the data file")
        // A query cannot write even by accident: the store it opens refuses appends.
        let store = try LMDBEventStore.open(directory: path, options: .init(readOnly: true))
        defer { store.close() }
        await #expect(throws: EventStoreError.readOnly(path: store.directory)) {
            try await store.save(Checkpoint(name: "x", position: .start, state: [1]))
        }
    }

    @Test func importKeepsTheWriteModelAndRebuildsADamagedOneSayingWhy() async throws {
        let (path, tenant, user) = try await world()
        defer { try? FileManager.default.removeItem(atPath: path) }
        func writeModel() async throws -> Checkpoint? {
            let store = try LMDBEventStore.open(directory: path)
            defer { store.close() }
            return try await store.checkpoint(named: "write-model")
        }
        let demoModel = try #require(try await writeModel(), "demo saves the write model")
        // One line with the default interval: decided from the checkpoint, which is not saved again for one event.
        let first = try await cumulus(
            ["import"], path, input: presence(user, tenant: tenant, "Busy", activity: "InACall"))
        #expect(first.status == 0, "\(first.error)")
        #expect(first.error.isEmpty, "\(first.error)")
        #expect(try await writeModel() == demoModel)
        // With --checkpoint-interval 0 it is saved after the run, caught up with both lines.
        let again = try await cumulus(
            ["import", "--checkpoint-interval", "0"], path,
            input: presence(user, tenant: tenant, "DoNotDisturb", activity: "Presenting"))
        #expect(again.status == 0, "\(again.error)")
        let saved = try #require(try await writeModel())
        #expect(saved.position.rawValue == demoModel.position.rawValue + 2)
        // Damage it: the next import says why it folds from 0, and still decides correctly.
        do {
            let store = try LMDBEventStore.open(directory: path)
            try await store.save(damaged(saved))
            store.close()
        }
        let second = try await cumulus(
            ["import", "--checkpoint-interval", "0"], path,
            input: presence(user, tenant: tenant, "Away", activity: "Away"))
        #expect(second.status == 0, "\(second.error)")
        #expect(second.error.contains("write-model checkpoint ignored: its bytes are damaged"), "\(second.error)")
        #expect(second.output.contains("accepted: 1"))
        let repaired = try #require(try await writeModel())
        #expect(repaired.position.rawValue == saved.position.rawValue + 1)
        // A damaged projection checkpoint: the query says so, folds that projection from 0 in memory, answers.
        do {
            let store = try LMDBEventStore.open(directory: path)
            let current = try #require(try await store.checkpoint(named: "current-state"))
            try await store.save(damaged(current))
            store.close()
        }
        let state = try await cumulus(["state", "user", user], path)
        #expect(state.status == 0, "\(state.error)")
        #expect(state.error.contains("projection current-state: checkpoint damaged"), "\(state.error)")
        #expect(state.output.contains("\"Away\""), "\(state.output)")
        let rebuilt = try await cumulus(["rebuild"], path)
        #expect(rebuilt.output.contains("current-state: rebuilt from position 0"), "\(rebuilt.output)")
        #expect(rebuilt.output.contains("write-model: resumed after position"), "\(rebuilt.output)")
        let clean = try await cumulus(["state", "user", user], path)
        #expect(clean.error.isEmpty, "\(clean.error)")
    }

    func damaged(_ checkpoint: Checkpoint) -> Checkpoint {
        var copy = checkpoint
        copy.state[copy.state.count / 2] ^= 0x10
        return copy
    }
}
