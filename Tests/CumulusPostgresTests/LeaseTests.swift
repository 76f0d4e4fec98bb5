import CumulusLog
import CumulusPostgres
import CumulusTesting
import Foundation
import Synchronization
import Testing

/// A shared projection checkpoint advanced by one worker process at a time under a lease; killing the holder
/// mid-batch passes the lease on, and every event is applied exactly once.
@Suite("PostgreSQL projection lease", .enabled(if: TestServer.enabled, TestServer.skipReason))
struct LeaseTests {
    @Test func aKilledHolderIsReplacedWithNothingAppliedTwiceOrSkipped() async throws {
        let store = try await TestServer.freshStore("lease")
        defer { store.close() }
        let total: UInt64 = 600
        for batch in 0..<12 { _ = try await store.append(SampleEvents.make(50), to: StreamName("user-\(batch % 5)")) }
        let url = store.location.url
        let arguments = ["project", url, "shared", "50", "150", String(total)]
        // The first stops in the middle of the batch after position 200 and holds the lease until it is killed:
        // the kill lands mid-batch however slowly the second process starts (under load it once took longer
        // than the first needed to finish).
        let first = try ChildProcess("cumulus-pg-torture", arguments + ["200"])
        #expect(await first.waitForOutput(containing: "hanging mid-batch", timeout: 60), "\(first.standardError)")
        let second = try ChildProcess("cumulus-pg-torture", arguments)
        #expect(await second.waitForOutput(containing: "waiting for the lease", timeout: 30))
        try await Task.sleep(for: .milliseconds(400))
        // While the first holds the lease the second only waits.
        #expect(!second.standardOutput.contains("took over"), "\(second.standardOutput)")
        first.kill()
        let killedAfter = first.standardOutput.split(separator: "\n").last { $0.hasPrefix("advanced to ") }
        #expect(await second.wait(timeout: 60) == 0, "\(second.standardOutput) \(second.standardError)")
        let output = second.standardOutput
        let takeOver = output.split(separator: "\n").first { $0.hasPrefix("took over at ") }
        let position = takeOver.flatMap { UInt64($0.dropFirst("took over at ".count)) } ?? 0
        #expect(position >= 100 && position < total, "\(output)")
        // It resumes from the last checkpoint the first saved (the batch the first was working on is done again).
        let saved = killedAfter.flatMap { UInt64($0.dropFirst("advanced to ".count)) } ?? 0
        #expect(saved == 200 && position == saved, "saved \(saved), took over at \(position)")
        #expect(output.contains("done at \(total)"))
        let checkpoint = try #require(try await store.checkpoint(named: "shared"))
        #expect(checkpoint.position == GlobalPosition(total))
        let (count, sum) = checkpoint.state.withUnsafeBytes {
            (
                UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)),
                UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
        #expect(count == total && sum == total * (total + 1) / 2, "count \(count), sum \(sum)")
    }

    @Test func aStaleHolderCannotOverwriteItsSuccessor() async throws {
        let store = try await TestServer.freshStore("fence")
        defer { store.close() }
        let first = try await store.acquireLease("p")
        #expect(try await store.tryLease("p") == nil)
        let start = Checkpoint(name: "p", position: GlobalPosition(5), state: [1])
        try await first.advance(from: nil, to: start)
        await first.release()
        let second = try #require(try await store.tryLease("p"))
        try await second.advance(from: start, to: Checkpoint(name: "p", position: GlobalPosition(9), state: [2]))
        await second.release()
        // A holder that started from the old checkpoint is refused.
        let stale = try await store.acquireLease("p")
        await #expect(throws: EventStoreError.self) {
            try await stale.advance(from: start, to: Checkpoint(name: "p", position: GlobalPosition(7), state: [3]))
        }
        await stale.release()
        #expect(try await store.checkpoint(named: "p")?.position == GlobalPosition(9))
    }

    @Test func aReleasedLeaseRefusesEveryCallAtOnce() async throws {
        let store = try await TestServer.freshStore("released")
        defer { store.close() }
        let lease = try await store.acquireLease("p")
        let saved = Checkpoint(name: "p", position: GlobalPosition(3), state: [1])
        #expect(try await lease.advance(group: [saved]) == 1)
        await lease.release()
        #expect(lease.isLost)
        // Each call must fail, not wait on the closed connection. The calls run in a task of their own that the
        // test only polls, so that a call that hangs fails the test after 20 s instead of hanging the suite.
        let finished = Mutex<[String]?>(nil)
        Task {
            var errors: [String] = []
            for call in 0..<3 {
                do {
                    switch call {
                    case 0:
                        _ = try await lease.advance(group: [
                            Checkpoint(name: "p", position: GlobalPosition(4), state: [2])
                        ])
                    case 1:
                        try await lease.advance(
                            from: saved, to: Checkpoint(name: "p", position: GlobalPosition(5), state: [3]))
                    default: _ = try await lease.checkpoint()
                    }
                    errors.append("no error")
                } catch {
                    errors.append("\(error)")
                }
            }
            finished.withLock { $0 = errors }
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while finished.withLock({ $0 == nil }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let outcomes = try #require(finished.withLock { $0 }, "a call on a released lease did not return in 20 s")
        #expect(outcomes.count == 3, "\(outcomes)")
        for outcome in outcomes { #expect(outcome.contains("lease 'p'") && outcome.contains("released"), "\(outcome)") }
        // Nothing was written after the release, and the next worker takes the lease at once.
        #expect(try await store.checkpoint(named: "p")?.position == GlobalPosition(3))
        let next = try #require(try await store.tryLease("p"))
        await next.release()
    }
}
