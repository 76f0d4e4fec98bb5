// A child process for the PostgreSQL multi-process tests (Tests/CumulusPostgresTests/MultiProcessTests.swift).
//
//   cumulus-pg-torture append URL TASKS APPENDS LABEL   TASKS concurrent tasks, each APPENDS appends of 1–3 events
//   cumulus-pg-torture follow URL TOTAL                 follows the log from the start until position TOTAL
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
            default:
                print("usage: cumulus-pg-torture append URL TASKS APPENDS LABEL | follow URL TOTAL")
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
                                type: "Tortured", actor: label, payload: Array("\(label)-\(task)-\(index)-\(item)".utf8))
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
