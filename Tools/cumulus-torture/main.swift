// cumulus-torture: a helper process for the crash, multi-process and stale-reader tests.
//
//   cumulus-torture append-loop DIR          append forever from 4 tasks; print "ack FIRST LAST ID…" per append
//   cumulus-torture append-count DIR N LABEL append N one-event appends to streams LABEL-0…LABEL-9, then "done"
//   cumulus-torture hold-reader DIR          open a read transaction, print "holding", and sleep inside it
//   cumulus-torture open-report DIR          open the log and print how many stale reader slots it cleared
//   cumulus-torture grow DIR N               append N events of 4 KiB each (grows a small map)
//   cumulus-torture fault-in-verify DIR [bus] raise SIGSEGV (or SIGBUS) at the end of verify's walk
//
// It is a test tool, not part of the product; the tests run it as a child process and kill it.
import CumulusLMDB
import CumulusLog
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(
        Data("usage: cumulus-torture append-loop|append-count|hold-reader|grow DIR …\n".utf8))
    exit(2)
}
let directory = arguments[2]
let ackLock = NSLock()

func say(_ line: String) {
    ackLock.lock()
    defer { ackLock.unlock() }
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

do {
    switch arguments[1] {
    case "append-loop":
        let store = try LMDBEventStore.open(
            directory: directory,
            options: .init(create: true, initialMapSize: 1 << 20)
        )
        say("ready")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    var round = 0
                    while true {
                        round += 1
                        let count = 1 + round % 3
                        let events = (0..<count).map { index in
                            ProposedEvent(
                                type: "Tortured",
                                actor: "torture",
                                payload: Array(
                                    repeating: UInt8(truncatingIfNeeded: round + index), count: 100 + round % 300)
                            )
                        }
                        let result = try await store.append(events, to: StreamName("torture-\(task)-\(round % 50)"))
                        say(
                            "ack \(result.firstPosition) \(result.lastPosition) "
                                + events.map(\.id.description).joined(separator: " "))
                    }
                }
            }
            try await group.waitForAll()
        }
    case "append-count":
        guard arguments.count >= 5, let count = Int(arguments[3]) else { exit(2) }
        let label = arguments[4]
        let store = try LMDBEventStore.open(directory: directory, options: .init(create: true, initialMapSize: 1 << 20))
        for index in 0..<count {
            _ = try await store.append(
                [ProposedEvent(type: "Counted", actor: label, payload: Array("\(label)-\(index)".utf8))],
                to: StreamName("\(label)-\(index % 10)")
            )
        }
        store.close()
        say("done")
    case "hold-reader":
        let store = try LMDBEventStore.open(directory: directory)
        _ = try store.scan(after: .start, maximumCount: 1) { _ in
            say("holding")
            while true { sleep(1) }
        }
    case "open-report":
        let store = try LMDBEventStore.open(directory: directory)
        say("cleared \(store.staleReaderSlotsCleared)")
        store.close()
    case "grow":
        guard arguments.count >= 4, let count = Int(arguments[3]) else { exit(2) }
        let store = try LMDBEventStore.open(
            directory: directory, options: .init(create: true, initialMapSize: 64 << 10))
        for index in 0..<count {
            _ = try await store.append(
                [
                    ProposedEvent(
                        type: "Big", actor: "grow", payload: Array(repeating: UInt8(index & 0xFF), count: 4096))
                ],
                to: StreamName("grow-\(index % 7)")
            )
        }
        store.close()
        say("done")
    case "fault-in-verify":
        // A fault at the end of verify's walk, as damage that crashes the storage engine would raise: the
        // handler must name the position and page reached and exit 1 instead of dying of the signal.
        let store = try LMDBEventStore.open(directory: directory)
        StorageFaults.exitOnDamage(status: 1)
        let signal = arguments.count >= 4 && arguments[3] == "bus" ? SIGBUS : SIGSEGV
        _ = try await store.verify { _ in raise(signal) }
        say("no fault")
    default:
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("cumulus-torture: \(error)\n".utf8))
    exit(1)
}
