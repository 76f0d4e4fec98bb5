import CumulusLog
import CumulusPostgres
import CumulusTesting
import Foundation
import Testing

/// Gap-free positions with writers in several processes: 3 processes × 64 tasks append while 2 follower
/// processes read; each follower must see every position exactly once, in order (docs/postgres.md).
@Suite("PostgreSQL multi-process", .enabled(if: TestServer.enabled, TestServer.skipReason))
struct MultiProcessTests {
    @Test func threeWritersTwoFollowersSeeEveryPositionOnceInOrder() async throws {
        let store = try await TestServer.freshStore("procs")
        defer { store.close() }
        let url = store.location.url
        let tasks = 64
        let appends = 8
        // Each task appends 1–3 events per append: (1 + (task + index) % 3) summed.
        var perProcess = 0
        for task in 0..<tasks { for index in 0..<appends { perProcess += 1 + (task + index) % 3 } }
        let total = 3 * perProcess
        let followers = try (0..<2).map { _ in try ChildProcess("cumulus-pg-torture", ["follow", url, String(total)]) }
        let writers = try (0..<3).map { index in
            try ChildProcess("cumulus-pg-torture", ["append", url, String(tasks), String(appends), "p\(index)"])
        }
        for writer in writers {
            let status = await writer.wait(timeout: 120)
            #expect(
                status == 0 && writer.standardOutput.contains("appended \(perProcess) events"),
                "writer said: \(writer.standardOutput) \(writer.standardError)")
        }
        for follower in followers {
            let status = await follower.wait(timeout: 60)
            #expect(
                status == 0 && follower.standardOutput.contains("followed \(total) in order"),
                "follower said: \(follower.standardOutput) \(follower.standardError)")
        }
        let report = try await store.verify()
        #expect(report.eventCount == UInt64(total) && report.lastPosition == GlobalPosition(UInt64(total)))
        // Every process's own streams are complete: versions 1… with no gap.
        let all = try await store.readAll(after: .start, maximumCount: total + 10)
        #expect(all.map(\.position.rawValue) == Array(1...UInt64(total)))
        #expect(Set(all.map(\.id)).count == total)
    }
}
