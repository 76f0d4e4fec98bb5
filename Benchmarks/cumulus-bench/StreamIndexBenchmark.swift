import CLMDB
import CumulusLMDB
import CumulusLog
import Foundation

/// Measures the choice of stream index on the write path: durable bulk appends in large commits over
/// many streams, for the log alone, a naive per-event `(stream, version) → position` index, the
/// stream-head table Cumulus uses (all three written straight to LMDB), and Cumulus through its API.
/// Batches alternate between contenders so that machine drift hits them all. (`cumulus-bench stream-index`;
/// kept beside the issue-5 harness because it shows why the stream index looks as it does.)
struct StreamIndexBenchmark {
    let workload: PresenceWorkload
    let eventCount: Int
    let batchSize: Int
    let directory: String
    /// Runs only this contender (0–3), for profiling.
    var only: Int? = ProcessInfo.processInfo.environment["CUMULUS_BENCH_ONLY"].flatMap { Int($0) }

    struct Outcome {
        let name: String
        var seconds: Double = 0
        var events = 0
        var rate: Double { seconds > 0 ? Double(events) / seconds : 0 }
    }

    static func runAndPrint(events eventCount: Int, streams streamCount: Int) async throws {
        let directory = NSTemporaryDirectory() + "cumulus-bench-stream-index-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        print("generating \(eventCount) presence events over \(streamCount) streams…")
        let workload = try PresenceWorkload(streams: streamCount)
        let outcomes = try await StreamIndexBenchmark(
            workload: workload, eventCount: eventCount, batchSize: 10_000, directory: directory
        ).run()
        let limit = outcomes[0].rate
        print("durable bulk append, 10,000 events per commit, \(eventCount) events over \(streamCount) streams")
        print("contender".padding(toLength: 50, withPad: " ", startingAt: 0) + "   events/s   × limit")
        for outcome in outcomes {
            let rate = String(format: "%10.0f", outcome.rate)
            let ratio = String(format: "%7.3f", limit > 0 ? outcome.rate / limit : 0)
            print(outcome.name.padding(toLength: 50, withPad: " ", startingAt: 0) + " \(rate)   \(ratio)")
        }
    }

    func run() async throws -> [Outcome] {
        let generated = workload.events(0..<eventCount)
        // Pre-encode the records once, outside any timing: the raw contenders store the same bytes Cumulus
        // would, without Cumulus's own work (hashing, checks, bookkeeping).
        var records: [[UInt8]] = []
        records.reserveCapacity(generated.count)
        var versions = [UInt64](repeating: 0, count: workload.streams.count)
        var lastPositions = [UInt64](repeating: 0, count: workload.streams.count)
        var link = ChainLink.genesis
        for (offset, event) in generated.enumerated() {
            let stream = event.streamIndex
            versions[stream] += 1
            var buffer: [UInt8] = []
            link = RecordCodec.encode(
                event.proposed,
                stream: workload.streams[stream],
                version: StreamVersion(versions[stream]),
                previousInStream: GlobalPosition(lastPositions[stream]),
                recordedAt: .now,
                position: GlobalPosition(UInt64(offset + 1)),
                previousLink: link,
                into: &buffer
            )
            lastPositions[stream] = UInt64(offset + 1)
            records.append(buffer)
        }
        let streamKeys = workload.streamKeys

        let logOnly = try RawLMDB(path: directory + "/log-only", databases: ["events"])
        let naive = try RawLMDB(path: directory + "/naive", databases: ["events", "index"])
        let heads = try RawLMDB(path: directory + "/heads", databases: ["events", "streams"])
        let cumulus = try LMDBEventStore.open(directory: directory + "/cumulus", options: .init(create: true))
        defer { cumulus.close() }

        var outcomes = [
            Outcome(name: "limit: log only (raw LMDB)"),
            Outcome(name: "naive per-event stream index (raw LMDB)"),
            Outcome(name: "stream-head table, Cumulus's design (raw LMDB)"),
            Outcome(name: "Cumulus API"),
        ]
        var naiveVersions = [UInt64](repeating: 0, count: workload.streams.count)
        var headVersions = [(UInt64, UInt64)](repeating: (0, 0), count: workload.streams.count)
        let clock = ContinuousClock()
        var start = 0
        var round = 0
        while start < generated.count {
            let end = min(start + batchSize, generated.count)
            let range = start..<end
            var grouped: [Int: [ProposedEvent]] = [:]
            for offset in range {
                grouped[generated[offset].streamIndex, default: []].append(generated[offset].proposed)
            }
            let appends = grouped.map {
                StreamAppend(stream: workload.streams[$0.key], expectedVersion: .any, events: $0.value)
            }
            for turn in 0..<4 {
                let contender = (turn + round) % 4
                if let only, only != contender { continue }
                let began = clock.now
                switch contender {
                case 0:
                    let events = try logOnly.handle("events")
                    try logOnly.write { txn in
                        for index in range { try putRecord(txn, events, position: index + 1, records[index]) }
                    }
                case 1:
                    let events = try naive.handle("events")
                    let index = try naive.handle("index")
                    try naive.write { txn in
                        for offset in range {
                            try putRecord(txn, events, position: offset + 1, records[offset])
                            let stream = generated[offset].streamIndex
                            naiveVersions[stream] += 1
                            let key =
                                streamKeys[stream] + withUnsafeBytes(of: naiveVersions[stream].bigEndian, Array.init)
                            let value = withUnsafeBytes(of: UInt64(offset + 1).bigEndian, Array.init)
                            try key.withUnsafeBytes { keyRaw in
                                try value.withUnsafeBytes { valueRaw in
                                    try RawLMDB.put(txn, index, key: keyRaw, value: valueRaw)
                                }
                            }
                        }
                    }
                case 2:
                    let events = try heads.handle("events")
                    let streamsDB = try heads.handle("streams")
                    try heads.write { txn in
                        var touched = Set<Int>()
                        for offset in range {
                            try putRecord(txn, events, position: offset + 1, records[offset])
                            let stream = generated[offset].streamIndex
                            headVersions[stream] = (headVersions[stream].0 + 1, UInt64(offset + 1))
                            touched.insert(stream)
                        }
                        for stream in touched.sorted() {
                            let value =
                                withUnsafeBytes(of: headVersions[stream].0.littleEndian, Array.init)
                                + withUnsafeBytes(of: headVersions[stream].1.littleEndian, Array.init)
                            try streamKeys[stream].withUnsafeBytes { keyRaw in
                                try value.withUnsafeBytes { valueRaw in
                                    try RawLMDB.put(txn, streamsDB, key: keyRaw, value: valueRaw)
                                }
                            }
                        }
                    }
                default:
                    _ = try await cumulus.append(atomically: appends)
                }
                let elapsed = clock.now - began
                outcomes[contender].seconds +=
                    Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                outcomes[contender].events += range.count
            }
            start = end
            round += 1
        }
        return outcomes
    }

    private func putRecord(_ txn: OpaquePointer, _ dbi: MDB_dbi, position: Int, _ record: [UInt8]) throws {
        try withUnsafeBytes(of: UInt64(position).bigEndian) { key in
            try record.withUnsafeBytes { value in try RawLMDB.put(txn, dbi, key: key, value: value, flags: MDB_APPEND) }
        }
    }
}
