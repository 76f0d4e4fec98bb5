// A child process for the PostgreSQL multi-process tests (Tests/CumulusPostgresTests/MultiProcessTests.swift).
//
//   cumulus-pg-torture append URL TASKS APPENDS LABEL   TASKS concurrent tasks, each APPENDS appends of 1–3 events
//   cumulus-pg-torture follow URL TOTAL                 follows the log from the start until position TOTAL
//   cumulus-pg-torture project URL NAME BATCH MS TOTAL [HANG]
//                                                       advances the shared checkpoint NAME under its lease, BATCH
//                                                       events at a time, working MS ms per batch, up to TOTAL; with
//                                                       HANG, once the checkpoint is at HANG or past it, applies the
//                                                       next batch in memory, prints `hanging mid-batch` and waits
//                                                       there, holding the lease, until it is killed
//
// `append` prints `appended N events`; `follow` prints `followed TOTAL in order` when every position from 1 to
// TOTAL arrived exactly once and in order, or `gap: …` and exits 1. Both exit 1 with the error on failure.
import CumulusLog
import CumulusPostgres
import Foundation

@main
struct Torture {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            switch arguments.first {
            case "append" where arguments.count == 5:
                try await append(
                    url: arguments[1], tasks: Int(arguments[2]) ?? 1, appends: Int(arguments[3]) ?? 1,
                    label: arguments[4])
            case "follow" where arguments.count == 3:
                try await follow(url: arguments[1], total: UInt64(arguments[2]) ?? 0)
            case "project" where arguments.count == 6 || arguments.count == 7:
                try await project(
                    url: arguments[1], name: arguments[2], batch: Int(arguments[3]) ?? 1,
                    milliseconds: Int(arguments[4]) ?? 0, total: UInt64(arguments[5]) ?? 0,
                    hangAfter: arguments.count == 7 ? UInt64(arguments[6]) : nil)
            default:
                print("usage: cumulus-pg-torture append URL TASKS APPENDS LABEL | follow URL TOTAL | project …")
                exit(2)
            }
        } catch {
            print("error: \(error)")
            exit(1)
        }
    }

    static func append(url: String, tasks: Int, appends: Int, label: String) async throws {
        let store = try await PostgresEventStore.open(try PostgresLocation(url: url))
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var written = 0
                    for index in 0..<appends {
                        let count = 1 + (task + index) % 3
                        let events = (0..<count).map { item in
                            ProposedEvent(
                                type: "Tortured", actor: label, payload: Array("\(label)-\(task)-\(index)-\(item)".utf8)
                            )
                        }
                        // Own streams with exact versions, and a shared stream appended with `.any`.
                        let own = try StreamName("\(label)-\(task)")
                        if index % 4 == 3 {
                            _ = try await store.append(events, to: StreamName("shared"), expecting: .any)
                        } else {
                            _ = try await store.append(events, to: own, expecting: .any)
                        }
                        written += count
                    }
                    return written
                }
            }
            var total = 0
            for try await count in group { total += count }
            return total
        }
        store.close()
        print("appended \(counts) events")
    }

    /// Writes a line at once (a test may kill the process right after reading it).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// A projection whose whole state is in its checkpoint: how many events it applied and the sum of their
    /// positions — each position applied exactly once gives count = TOTAL and sum = TOTAL(TOTAL+1)/2.
    /// With `hangAfter`, the worker stops in the middle of the first batch after that position — applied in memory,
    /// its checkpoint not saved — and waits there until it is killed: the kill lands mid-batch however slowly the
    /// test's other processes start.
    static func project(
        url: String, name: String, batch: Int, milliseconds: Int, total: UInt64, hangAfter: UInt64?
    ) async throws {
        let store = try await PostgresEventStore.open(try PostgresLocation(url: url))
        say("waiting for the lease")
        let lease = try await store.acquireLease(name, pollInterval: .milliseconds(20))
        var checkpoint = try await lease.checkpoint()
        say("took over at \(checkpoint?.position.rawValue ?? 0)")
        while (checkpoint?.position.rawValue ?? 0) < total {
            var (count, sum) = decode(checkpoint?.state ?? [])
            let events = try await store.readAll(after: checkpoint?.position ?? .start, maximumCount: batch)
            guard let last = events.last else { break }
            for event in events {
                count += 1
                sum += event.position.rawValue
            }
            // The batch's work: a kill lands here, after applying in memory and before the checkpoint is saved.
            if let hangAfter, (checkpoint?.position.rawValue ?? 0) >= hangAfter {
                say("hanging mid-batch")
                while true { try await Task.sleep(for: .seconds(3_600)) }
            }
            try await Task.sleep(for: .milliseconds(milliseconds))
            let next = Checkpoint(name: name, position: last.position, state: encode(count, sum))
            try await lease.advance(from: checkpoint, to: next)
            checkpoint = next
            say("advanced to \(last.position)")
        }
        await lease.release()
        store.close()
        say("done at \(checkpoint?.position.rawValue ?? 0)")
    }

    static func encode(_ count: UInt64, _ sum: UInt64) -> [UInt8] {
        withUnsafeBytes(of: (count.littleEndian, sum.littleEndian)) { Array($0) }
    }

    static func decode(_ state: [UInt8]) -> (UInt64, UInt64) {
        guard state.count == 16 else { return (0, 0) }
        return state.withUnsafeBytes {
            (
                UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)),
                UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
    }

    static func follow(url: String, total: UInt64) async throws {
        let store = try await PostgresEventStore.open(try PostgresLocation(url: url))
        var expected: UInt64 = 1
        print("following")
        for try await event in store.subscribe(after: .start, batchSize: 500) {
            guard event.position.rawValue == expected else {
                print("gap: expected position \(expected), got \(event.position)")
                exit(1)
            }
            if expected == total { break }
            expected += 1
        }
        store.close()
        print("followed \(total) in order")
    }
}
