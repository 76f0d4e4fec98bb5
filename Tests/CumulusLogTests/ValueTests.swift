import CumulusLog
import Foundation
import Testing

@Suite("Timestamps")
struct TimestampTests {
    @Test(arguments: [
        ("2026-11-20T08:15:00Z", Int64(1_795_162_500_000_000)),
        ("2026-11-20T08:15:00.250Z", 1_795_162_500_250_000),
        ("2026-11-20T08:15:00.250125Z", 1_795_162_500_250_125),
        ("2026-11-20T09:15:00+01:00", 1_795_162_500_000_000),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.5Z", -500_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000),
    ])
    func parsesAndFormats(text: String, micros: Int64) throws {
        let parsed = try #require(Timestamp(iso8601: text))
        #expect(parsed.microsecondsSinceEpoch == micros)
        #expect(Timestamp(iso8601: parsed.iso8601) == parsed)
    }

    @Test func formatsWithTheFewestFractionDigits() {
        #expect(Timestamp(microsecondsSinceEpoch: 1_795_162_500_000_000).iso8601 == "2026-11-20T08:15:00Z")
        #expect(Timestamp(microsecondsSinceEpoch: 1_795_162_500_250_000).iso8601 == "2026-11-20T08:15:00.250Z")
        #expect(Timestamp(microsecondsSinceEpoch: 1_795_162_500_000_007).iso8601 == "2026-11-20T08:15:00.000007Z")
        #expect(Timestamp(microsecondsSinceEpoch: -500_000).iso8601 == "1969-12-31T23:59:59.500Z")
    }

    @Test(arguments: [
        "", "2026-11-20", "2026-11-20T08:15:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-11-20T24:00:00Z", "2026-11-20T08:15:00.Z", "2026-11-20T08:15:00Zjunk", "20261120T081500Z",
        "2026-11-20T08:15:00.1234567890Z",
    ])
    func refusesMalformedText(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test func roundTripsThroughDate() {
        let now = Timestamp.now
        #expect(abs(Timestamp(now.date).microsecondsSinceEpoch - now.microsecondsSinceEpoch) <= 1)
        #expect(now.adding(seconds: 1.5).seconds(since: now) == 1.5)
    }
}

@Suite("Names and ids")
struct NameTests {
    @Test func streamNamesAreChecked() throws {
        #expect(try StreamName("user-1").rawValue == "user-1")
        #expect(throws: EventStoreError.self) { try StreamName("") }
        #expect(throws: EventStoreError.self) { try StreamName("a\nb") }
        #expect(throws: EventStoreError.self) { try StreamName(String(repeating: "x", count: 256)) }
        #expect(try StreamName(String(repeating: "x", count: 255)).rawValue.count == 255)
    }

    @Test func generatedIDsAreVersion7AndIncreasing() {
        let ids = (0..<10_000).map { _ in EventID.generate() }
        for id in ids.prefix(100) {
            #expect(id.bytes[6] >> 4 == 7, "version nibble")
            #expect(id.bytes[8] >> 6 == 0b10, "variant bits")
        }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }, "ids made in order sort in order")
        #expect(Set(ids).count == ids.count)
        // The random tails come from a pool refilled every few hundred ids: none may repeat.
        #expect(Set(ids.map { Array($0.bytes[8...]) }).count == ids.count, "random bits never reused")
        let text = ids[0].description
        #expect(EventID(text) == ids[0])
        #expect(EventID("not-a-uuid") == nil)
    }

    @Test func expectedVersionSemantics() {
        #expect(ExpectedVersion.any.isSatisfied(by: StreamVersion(7)))
        #expect(ExpectedVersion.noStream.isSatisfied(by: .empty))
        #expect(!ExpectedVersion.noStream.isSatisfied(by: StreamVersion(1)))
        #expect(ExpectedVersion.exactly(StreamVersion(3)).isSatisfied(by: StreamVersion(3)))
        #expect(!ExpectedVersion.exactly(StreamVersion(3)).isSatisfied(by: StreamVersion(4)))
    }

    @Test func errorsSayWhatAndWhere() throws {
        let error = EventStoreError.wrongExpectedVersion(
            stream: try StreamName("tenant-1"),
            expected: .exactly(StreamVersion(4)),
            actual: StreamVersion(6)
        )
        #expect(
            error.description.contains("tenant-1") && error.description.contains("4") && error.description.contains("6")
        )
        #expect(
            EventStoreError.integrityViolation(position: GlobalPosition(17), reason: "x").description.contains("17"))
    }
}

@Suite("Commit notifier")
struct CommitNotifierTests {
    @Test func wakesWaitersPastTheirPosition() async throws {
        let notifier = CommitNotifier()
        let waiter = Task { try await notifier.wait(after: GlobalPosition(5)) }
        try await Task.sleep(for: .milliseconds(10))
        notifier.publish(GlobalPosition(5))
        try await Task.sleep(for: .milliseconds(10))
        #expect(notifier.hasWaiters, "position 5 does not satisfy a wait after 5")
        notifier.publish(GlobalPosition(6))
        try await waiter.value
        #expect(!notifier.hasWaiters)
    }

    @Test func cancellationAndCloseEndWaits() async throws {
        let notifier = CommitNotifier()
        let cancelled = Task { () async -> EventStoreError? in
            do throws(EventStoreError) { try await notifier.wait(after: GlobalPosition(1)) } catch { return error }
            return nil
        }
        try await Task.sleep(for: .milliseconds(10))
        cancelled.cancel()
        #expect(await cancelled.value == .cancelled)
        let closed = Task { () async -> EventStoreError? in
            do throws(EventStoreError) { try await notifier.wait(after: GlobalPosition(1)) } catch { return error }
            return nil
        }
        try await Task.sleep(for: .milliseconds(10))
        notifier.close()
        #expect(await closed.value == .closed)
    }
}
