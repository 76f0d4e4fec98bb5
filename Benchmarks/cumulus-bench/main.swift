// cumulus-bench: Cumulus against the limit (raw LMDB), side by side in one run. Release mode only:
//   swift build -c release --product cumulus-bench && .build/release/cumulus-bench stream-index [EVENTS] [STREAMS]
import Foundation

let arguments = CommandLine.arguments
let workloadName = arguments.count > 1 ? arguments[1] : "stream-index"
let eventCount = arguments.count > 2 ? Int(arguments[2]) ?? 1_000_000 : 1_000_000
let streamCount = arguments.count > 3 ? Int(arguments[3]) ?? 100_000 : 100_000
let directory = NSTemporaryDirectory() + "/cumulus-bench-\(UUID().uuidString.lowercased())"
defer { try? FileManager.default.removeItem(atPath: directory) }

switch workloadName {
case "stream-index":
    print("generating \(eventCount) presence events over \(streamCount) streams…")
    let workload = PresenceWorkload(count: eventCount, streams: streamCount)
    let outcomes = try await StreamIndexBenchmark(workload: workload, batchSize: 10_000, directory: directory).run()
    let limit = outcomes[0].rate
    print("durable bulk append, 10,000 events per commit, \(eventCount) events over \(streamCount) streams")
    print("contender".padding(toLength: 50, withPad: " ", startingAt: 0) + "   events/s   × limit")
    for outcome in outcomes {
        let rate = String(format: "%10.0f", outcome.rate)
        let ratio = String(format: "%7.3f", limit > 0 ? outcome.rate / limit : 0)
        print(outcome.name.padding(toLength: 50, withPad: " ", startingAt: 0) + " \(rate)   \(ratio)")
    }
default:
    print("unknown workload \(workloadName); known: stream-index")
    exit(2)
}
