import CumulusLog
import CumulusTesting
import Foundation
import InMemoryLogging
import Logging
import MetricsTestKit
import Testing

@testable import CumulusLMDB

/// The store reports through the logger and the metrics factory it is given, and says nothing otherwise.
@Suite("Store logging and metrics")
struct InstrumentationTests {
    let scratch = TemporaryDirectory(prefix: "cumulus-metrics")
    var directory: String { scratch.path }

    @Test func appendsMoveTheCountersAndTheTimer() async throws {
        let metrics = TestMetrics()
        let store = try LMDBEventStore.open(
            directory: directory, options: .init(create: true, durability: .deferred), metricsFactory: metrics)
        defer { store.close() }
        _ = try await store.append(SampleEvents.make(3), to: StreamName("user-1"))
        _ = try await store.append(SampleEvents.make(2), to: StreamName("user-2"))
        let retry = SampleEvents.make(1)
        _ = try await store.append(retry, to: StreamName("user-3"))
        _ = try await store.append(retry, to: StreamName("user-3"))  // idempotent: writes nothing
        #expect(metrics.counterTotal(label: "cumulus_store_appended_events") == 6)
        #expect(metrics.counterTotal(label: "cumulus_store_commits") == 4)
        let latency = try metrics.expectTimer("cumulus_store_commit_duration")
        #expect(latency.values.count == 4)
        #expect(latency.values.allSatisfy { $0 > 0 })
        let groups = try metrics.expectRecorder("cumulus_store_group_events")
        #expect(groups.values.reduce(0, +) == 7)
        let mapSize = try metrics.expectGauge("cumulus_store_map_size_bytes")
        #expect((mapSize.lastValue ?? 0) > 0)
    }

    @Test func aRefusedAppendCountsNoEvents() async throws {
        let metrics = TestMetrics()
        let store = try LMDBEventStore.open(
            directory: directory, options: .init(create: true, durability: .deferred), metricsFactory: metrics)
        defer { store.close() }
        _ = try await store.append(SampleEvents.make(1), to: StreamName("user-1"))
        await #expect(throws: EventStoreError.self) {
            _ = try await store.append(
                SampleEvents.make(1), to: StreamName("user-1"), expecting: .exactly(StreamVersion(7)))
        }
        #expect(metrics.counterTotal(label: "cumulus_store_appended_events") == 1)
    }

    @Test func theLoggerReceivesRecordsWithoutPayloads() async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "test", factory: { _ in handler })
        logger.logLevel = .trace
        let store = try LMDBEventStore.open(
            directory: directory, options: .init(create: true, durability: .deferred), logger: logger)
        _ = try await store.append(
            [ProposedEvent(type: "Secretive", actor: "test", payload: Array("s3cret-payload".utf8))],
            to: StreamName("user-1"))
        store.close()
        let messages = handler.entries.map(\.message.description)
        #expect(messages.contains("opened the log"))
        #expect(messages.contains("group committed"))
        #expect(messages.contains("closed the log"))
        let everything = handler.entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        #expect(!everything.contains("s3cret-payload"))
        // A refused open is logged with what and where.
        handler.clear()
        #expect(throws: EventStoreError.self) {
            _ = try LMDBEventStore.open(directory: directory + "/absent", logger: logger)
        }
        #expect(handler.entries.contains { $0.level == .warning && "\($0.metadata)".contains("absent") })
    }

    @Test func silentByDefault() async throws {
        // Nothing is bootstrapped here: the default logger discards, whatever its level says.
        #expect(LMDBEventStore.silentLogger.handler is SwiftLogNoOpLogHandler)
    }
}
