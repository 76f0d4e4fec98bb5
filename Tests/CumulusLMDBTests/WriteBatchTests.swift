import CumulusLMDB
import CumulusLog
import CumulusTesting
import Testing

@Suite("The writer numbers a request's streams")
struct WriteBatchTests {
    func events(_ count: Int, _ label: String) -> [ProposedEvent] {
        (0..<count).map { ProposedEvent(type: "T", actor: "a", payload: Array("\(label)-\($0)".utf8)) }
    }

    @Test func streamNamedTwiceInALaterUnitIsRefusedAloneAndWritesNothing() async throws {
        let log = try TemporaryEventLog()
        let first = try StreamName("user-1")
        let second = try StreamName("user-2")
        // Both units go to the writer as one request each, in one transaction: the second finds the
        // streams of the first in the table and must still see that it names `second` twice.
        let results = try await log.store.append(units: [
            [StreamAppend(stream: first, expectedVersion: .noStream, events: events(1, "a"))],
            [
                StreamAppend(stream: second, expectedVersion: .any, events: events(1, "b")),
                StreamAppend(stream: first, expectedVersion: .any, events: events(1, "c")),
                StreamAppend(stream: second, expectedVersion: .any, events: events(1, "d")),
            ],
            [StreamAppend(stream: second, expectedVersion: .noStream, events: events(2, "e"))],
        ])
        #expect((try? results[0].get())?.first?.lastPosition == GlobalPosition(1))
        guard case .failure(.duplicateStreamInAppend(let named)) = results[1] else {
            Issue.record("the unit naming a stream twice was not refused: \(results[1])")
            return
        }
        #expect(named == second)
        // The refused unit left no trace: the third unit still sees `second` empty.
        #expect((try? results[2].get())?.first?.streamVersion == StreamVersion(2))
        #expect(try await log.store.version(of: first) == StreamVersion(1))
        #expect(try await log.store.lastPosition() == GlobalPosition(3))
    }

    @Test func streamNamedTwiceInTheFirstRequestIsRefused() async throws {
        let log = try TemporaryEventLog()
        let names = try (0..<50).map { try StreamName("user-\($0)") }
        var appends = names.map { StreamAppend(stream: $0, expectedVersion: .any, events: events(1, $0.rawValue)) }
        appends.append(StreamAppend(stream: names[17], expectedVersion: .any, events: events(1, "again")))
        await #expect(throws: EventStoreError.duplicateStreamInAppend(names[17])) {
            _ = try await log.store.append(atomically: appends)
        }
        #expect(try await log.store.lastPosition() == .start)
        // A retry of stored events that names a stream twice is refused too, not answered as stored.
        let stored = StreamAppend(stream: names[0], expectedVersion: .any, events: events(2, "x"))
        _ = try await log.store.append(atomically: [stored])
        let split = [
            StreamAppend(stream: names[0], expectedVersion: .any, events: [stored.events[0]]),
            StreamAppend(stream: names[0], expectedVersion: .any, events: [stored.events[1]]),
        ]
        await #expect(throws: EventStoreError.duplicateStreamInAppend(names[0])) {
            _ = try await log.store.append(atomically: split)
        }
    }

    @Test func headsAndVersionsFollowManyStreamsInOneRequest() async throws {
        let log = try TemporaryEventLog()
        let names = try (0..<300).map { try StreamName("user-\(($0 * 7919) % 1000)-\($0)") }
        for round in 0..<3 {
            let appends = names.enumerated().map { index, name in
                StreamAppend(
                    stream: name, expectedVersion: .exactly(StreamVersion(UInt64(round * (1 + index % 2)))),
                    events: events(1 + index % 2, "\(round)"))
            }
            let results = try await log.store.append(atomically: appends)
            for (index, result) in results.enumerated() {
                #expect(result.stream == names[index])
                #expect(result.streamVersion == StreamVersion(UInt64((round + 1) * (1 + index % 2))))
            }
        }
        for (index, name) in names.enumerated() {
            let read = try await log.store.read(stream: name, from: StreamVersion(1), maximumCount: 100)
            #expect(read.map(\.streamVersion.rawValue) == Array(1...UInt64(3 * (1 + index % 2))))
        }
        #expect(try await log.store.verify(progress: nil).eventCount == 1350)
    }
}
