import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// Crash, multi-process, map-growth and stale-reader behaviour, with real child processes.
@Suite("Durability and processes", .serialized)
struct ProcessTests {
    let scratch = TemporaryDirectory(prefix: "cumulus-process")
    var directory: String { scratch.path }

    @Test func everyAcknowledgedAppendSurvivesSIGKILL() async throws {
        var acknowledged: [(first: UInt64, last: UInt64, ids: [String])] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let child = try ChildProcess("cumulus-torture", ["append-loop", directory])
            #expect(await child.waitForOutput(containing: "ready"))
            try await Task.sleep(for: .milliseconds(Int.random(in: 20...200, using: &generator)))
            child.kill()
            for line in child.standardOutput.split(separator: "\n") where line.hasPrefix("ack ") {
                let fields = line.split(separator: " ")
                // A line cut by the kill is not an acknowledgement the test can rely on: it must be whole.
                guard fields.count >= 4, let first = UInt64(fields[1]), let last = UInt64(fields[2]),
                    fields.count - 3 == Int(last - first + 1)
                else { continue }
                acknowledged.append((first, last, fields[3...].map(String.init)))
            }
        }
        #expect(acknowledged.count > 20, "the child acknowledged too few appends to test anything")
        let store = try LMDBEventStore.open(directory: directory)
        defer { store.close() }
        let report = try await store.verify()
        for append in acknowledged {
            for (offset, id) in append.ids.enumerated() {
                let event = try await store.event(id: try #require(EventID(id)))
                #expect(
                    event?.position == GlobalPosition(append.first + UInt64(offset)), "acknowledged event \(id) lost")
            }
        }
        let highest = acknowledged.map(\.last).max() ?? 0
        #expect(report.lastPosition.rawValue >= highest)
    }

    @Test func twoProcessesAppendingAtOnceMakeAGapFreeLog() async throws {
        let store = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        store.close()
        let first = try ChildProcess("cumulus-torture", ["append-count", directory, "400", "alpha"])
        let second = try ChildProcess("cumulus-torture", ["append-count", directory, "400", "beta"])
        #expect(await first.wait() == 0, "\(first.standardError)")
        #expect(await second.wait() == 0, "\(second.standardError)")
        let reopened = try LMDBEventStore.open(directory: directory)
        defer { reopened.close() }
        let report = try await reopened.verify()
        #expect(report.eventCount == 800)
        let events = try await reopened.readAll(after: .start, maximumCount: 10_000)
        #expect(events.map(\.position.rawValue) == Array(1...800))
        #expect(Set(events.map(\.id)).count == 800)
        let payloads = Set(events.map { String(decoding: $0.payload, as: UTF8.self) })
        #expect(payloads == Set((0..<400).flatMap { ["alpha-\($0)", "beta-\($0)"] }))
        // Both processes really interleaved: neither wrote all its events before the other began.
        let firstBeta = events.firstIndex { $0.actor == "beta" } ?? 0
        let lastAlpha = events.lastIndex { $0.actor == "alpha" } ?? 0
        let firstAlpha = events.firstIndex { $0.actor == "alpha" } ?? 0
        let lastBeta = events.lastIndex { $0.actor == "beta" } ?? 0
        #expect(firstBeta < lastAlpha && firstAlpha < lastBeta, "the two writers did not overlap")
    }

    @Test func mapGrowsFarPastATinyInitialSize() async throws {
        let log = try TemporaryEventLog(initialMapSize: 64 << 10)
        let initial = try await log.store.statistics().mapSize ?? 0
        let payload = [UInt8](repeating: 0xAB, count: 4096)
        for batch in 0..<40 {
            let events = (0..<100).map { _ in ProposedEvent(type: "Big", actor: "t", payload: payload) }
            _ = try await log.store.append(events, to: StreamName("grow-\(batch % 5)"))
        }
        let statistics = try await log.store.statistics()
        #expect(statistics.eventCount == 4000)
        #expect((statistics.mapSize ?? 0) > 16 << 20, "map stayed at \(statistics.mapSize ?? 0)")
        #expect((statistics.mapSize ?? 0) > initial * 100)
        #expect(try await log.store.verify().eventCount == 4000)
    }

    @Test func aMapGrownByAnotherProcessIsAdopted() async throws {
        let store = try LMDBEventStore.open(
            directory: directory, options: .init(create: true, initialMapSize: 64 << 10))
        defer { store.close() }
        _ = try await store.append(SampleEvents.make(1), to: StreamName("mine"))
        let before = try await store.statistics().mapSize ?? 0
        let child = try ChildProcess("cumulus-torture", ["grow", directory, "3000"])
        #expect(await child.wait() == 0, "\(child.standardError)")
        // The other process grew the file far past this process's map: reads and writes must adopt the size.
        let events = try await store.readAll(after: .start, maximumCount: 10_000)
        #expect(events.count == 3001)
        _ = try await store.append(SampleEvents.make(10), to: StreamName("mine"))
        let after = try await store.statistics()
        #expect((after.mapSize ?? 0) > before)
        #expect(try await store.verify().eventCount == 3011)
    }

    @Test func readerSlotsOfAKilledProcessAreReclaimed() async throws {
        // This process keeps the directory open, so LMDB does not reset the reader table between processes.
        let store = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        defer { store.close() }
        _ = try await store.append(SampleEvents.make(3), to: StreamName("user-1"))
        let reader = try ChildProcess("cumulus-torture", ["hold-reader", directory])
        #expect(await reader.waitForOutput(containing: "holding"))
        reader.kill()
        #expect(try store.clearStaleReaders() == 1)
        #expect(try store.clearStaleReaders() == 0)
        // A process opening the directory now finds the table clean too.
        let second = try ChildProcess("cumulus-torture", ["hold-reader", directory])
        #expect(await second.waitForOutput(containing: "holding"))
        second.kill()
        let reporter = try ChildProcess("cumulus-torture", ["open-report", directory])
        #expect(await reporter.wait() == 0)
        #expect(reporter.standardOutput.contains("cleared 1"), "\(reporter.standardOutput)")
        #expect(try await store.verify().eventCount == 3)
    }

    @Test func aSubscriberSeesEventsAppendedByAnotherProcess() async throws {
        let store = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        defer { store.close() }
        _ = try await store.append(SampleEvents.make(2), to: StreamName("before"))
        let received = Task { () throws -> [String] in
            var payloads: [String] = []
            for try await event in store.subscribe(after: GlobalPosition(2)) {
                payloads.append(String(decoding: event.payload, as: UTF8.self))
                if payloads.count == 5 { break }
            }
            return payloads
        }
        let child = try ChildProcess("cumulus-torture", ["append-count", directory, "5", "remote"])
        #expect(await child.wait() == 0, "\(child.standardError)")
        let watchdog = Task {
            try await Task.sleep(for: .seconds(20))
            received.cancel()
        }
        let payloads = try await received.value
        watchdog.cancel()
        #expect(payloads == (0..<5).map { "remote-\($0)" })
    }
}
