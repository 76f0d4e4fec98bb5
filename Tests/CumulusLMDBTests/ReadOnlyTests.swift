import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// A read-only open (`Options.readOnly`, for queries): everything reads, nothing writes, the data file is unchanged.
@Suite("Opening a log read-only")
struct ReadOnlyTests {
    @Test func aReadOnlyStoreReadsEverythingAndWritesNothing() async throws {
        let directory = TemporaryEventLog.makeDirectory(prefix: "cumulus-readonly")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let writable = try LMDBEventStore.open(directory: directory, options: .init(create: true))
            _ = try await writable.append(SampleEvents.make(5), to: StreamName("user-1"), expecting: .noStream)
            try await writable.save(Checkpoint(name: "view", position: GlobalPosition(5), state: [1, 2, 3]))
            writable.close()
        }
        let dataFile = directory + "/data.mdb"
        let before = try Data(contentsOf: URL(fileURLWithPath: dataFile))
        let store = try LMDBEventStore.open(directory: directory, options: .init(readOnly: true))
        #expect(store.isReadOnly)
        #expect(try await store.readAll(after: .start, maximumCount: 10).count == 5)
        #expect(try await store.read(stream: StreamName("user-1")).count == 5)
        #expect(try await store.checkpoint(named: "view")?.state == [1, 2, 3])
        #expect(try await store.lastPosition() == GlobalPosition(5))
        _ = try await store.verify()
        await #expect(throws: EventStoreError.readOnly(path: store.directory)) {
            _ = try await store.append(SampleEvents.make(1), to: StreamName("user-2"), expecting: .noStream)
        }
        await #expect(throws: EventStoreError.readOnly(path: store.directory)) {
            try await store.save(Checkpoint(name: "view", position: GlobalPosition(5), state: [9]))
        }
        await #expect(throws: EventStoreError.readOnly(path: store.directory)) {
            _ = try await store.append(units: [
                [StreamAppend(stream: StreamName("user-3"), expectedVersion: .noStream, events: SampleEvents.make(1))]
            ])
        }
        // One environment per file and process: a writable open meanwhile is refused, not handed the read-only one.
        #expect(throws: EventStoreError.self) {
            _ = try LMDBEventStore.open(directory: directory)
        }
        store.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: dataFile)) == before)
    }

    @Test func aLogIsNeverCreatedReadOnly() throws {
        let parent = TemporaryEventLog.makeDirectory(prefix: "cumulus-readonly")
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let directory = parent + "/absent"
        #expect(throws: EventStoreError.self) {
            _ = try LMDBEventStore.open(directory: directory, options: .init(create: true, readOnly: true))
        }
        #expect {
            _ = try LMDBEventStore.open(directory: directory, options: .init(readOnly: true))
        } throws: { error in
            guard case .logNotFound = error as? EventStoreError else { return false }
            return true
        }
        #expect(!FileManager.default.fileExists(atPath: directory))
    }
}
