import CumulusLog
import CumulusTesting
import Foundation
import Synchronization
import Testing

@testable import CumulusLMDB

/// Blocking LMDB work runs on the store's reader threads, never on Swift's cooperative pool.
@Suite("Reads off the cooperative pool")
struct CooperativePoolTests {
    /// Holds the environment's gate exclusive on a thread of its own — every transaction of this process on
    /// the directory blocks meanwhile — until released, or until the watchdog gives up after `limit`.
    final class GateHolder: Sendable {
        private let held = DispatchSemaphore(value: 0)
        private let release = DispatchSemaphore(value: 0)
        private let done = DispatchSemaphore(value: 0)
        let timedOut = Atomic<Bool>(false)

        init(_ gate: ReaderGate, limit: DispatchTimeInterval) {
            let thread = Thread { [self] in
                gate.withExclusive {
                    held.signal()
                    if release.wait(timeout: .now() + limit) == .timedOut { timedOut.store(true, ordering: .relaxed) }
                }
                done.signal()
            }
            thread.start()
            held.wait()
        }

        func open() {
            release.signal()
            done.wait()
        }
    }

    final class Finished: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test func otherTasksProgressWhileManyReadsAreBlocked() async throws {
        let log = try TemporaryEventLog(durability: .deferred)
        _ = try await log.store.append(SampleEvents.make(10), to: StreamName("user-1"))
        let store = log.store
        // Generous: the whole suite runs in parallel on as few as 2 cores, and other suites keep the pool busy for
        // seconds at a time; a pool really blocked by the reads would never get to the tasks below at all.
        let holder = GateHolder(store.environment.gate, limit: .seconds(30))
        // Far more blocked reads than the cooperative pool has threads (one per core).
        let readers = max(32, 8 * ProcessInfo.processInfo.activeProcessorCount)
        let finished = Finished()
        let reads = Task {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<readers {
                    group.addTask {
                        let events: Int
                        switch index % 3 {
                        case 0: events = try await store.read(stream: StreamName("user-1")).count
                        case 1: events = Int(try await store.lastPosition().rawValue)
                        default: events = try await store.readAll(after: .start, maximumCount: 100).count
                        }
                        finished.count.add(1, ordering: .relaxed)
                        return events
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        // Work that needs the cooperative pool: many child tasks, each suspending and computing.
        let sums = await withTaskGroup(of: Int.self) { group in
            for index in 0..<64 {
                group.addTask {
                    await Task.yield()
                    return (0...index).reduce(0, +)
                }
            }
            return await group.reduce(0, +)
        }
        let finishedWhileBlocked = finished.count.load(ordering: .relaxed)
        holder.open()
        let timedOut = holder.timedOut.load(ordering: .relaxed)
        #expect(!timedOut, "tasks waited for the blocked reads: the pool was blocked")
        #expect(sums == (0..<64).map { ($0 * ($0 + 1)) / 2 }.reduce(0, +))
        #expect(finishedWhileBlocked == 0, "the reads were really blocked while the other tasks ran")
        let counts = try await reads.value
        #expect(counts.count == readers)
        #expect(counts.allSatisfy { $0 == 10 })
    }

    @Test func scanOnReaderThreadFeedsACallerThatWaits() async throws {
        let log = try TemporaryEventLog(durability: .deferred)
        _ = try await log.store.append(SampleEvents.make(25), to: StreamName("user-1"))
        var positions: [UInt64] = []
        let last = try await log.store.scanOnReaderThread(after: GlobalPosition(5), maximumCount: 10) {
            (event) throws(EventStoreError) in
            positions.append(event.position.rawValue)
        }
        #expect(positions == Array(6...15))
        #expect(last == GlobalPosition(15))
    }
}
