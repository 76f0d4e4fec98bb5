import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// A log exported (as `cumulus read` prints it) by the first release, whose `UserStateChanged` events are
/// schema version 1: it must stay readable forever, through the domain's upcasters.
@Suite("Old schema versions")
struct SchemaFixtureTests {
    @Test func aCommittedVersion1LogIsReadThroughTheUpcasters() async throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/log-schema-v1.jsonl")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        let log = try TemporaryEventLog(durability: .deferred)
        for (index, line) in lines.enumerated() {
            _ = try await log.store.append(atomically: [
                EnvelopeJSON.append(fromLine: String(line), lineNumber: index + 1)
            ])
        }
        let stored = try await log.store.readAll(after: .start, maximumCount: 100)
        #expect(stored.count == lines.count)
        #expect(stored.contains { $0.type == "UserStateChanged" && $0.schemaVersion == 1 })
        var states: [UserStateChanged] = []
        for event in stored {
            let decoded = try DomainEvent.decode(
                type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
            if case .userStateChanged(let change) = decoded { states.append(change) }
        }
        #expect(states.count == stored.filter { $0.type == "UserStateChanged" }.count)
        // Version 1 had no responsibility profile: the upcaster leaves it empty.
        #expect(states.contains { $0.responsibilityProfile == nil })
        // The write side folds the old log without complaint.
        let handler = CommandHandler(store: log.store)
        try await handler.catchUp()
        #expect(await handler.currentModel.position == GlobalPosition(UInt64(lines.count)))
    }
}
