import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// Flips single bytes in copies of a log's data file: each flip must be detected by `cumulus verify`
/// (or refused when opening), or else leave every stored fact exactly as it was (a flip in unused space).
@Suite("Tampering is detected")
struct TamperTests {
    @Test func singleByteFlipsAreDetectedOrHarmless() async throws {
        let original = TemporaryEventLog.makeDirectory(prefix: "cumulus-tamper")
        defer { try? FileManager.default.removeItem(atPath: original) }
        let store = try LMDBEventStore.open(directory: original, options: .init(create: true))
        for batch in 0..<40 {
            var events = SampleEvents.make(1 + batch % 4, label: "b\(batch)")
            events[0].correlationID = UUID()
            _ = try await store.append(events, to: StreamName("user-\(batch % 7)"))
        }
        try await store.save(
            Checkpoint(name: "current-state", position: GlobalPosition(50), state: Array(repeating: 42, count: 300)))
        store.close()
        let baseline = try await snapshot(of: original)
        #expect(baseline.verified && !baseline.content.isEmpty)
        let data = try Data(contentsOf: URL(fileURLWithPath: original + "/data.mdb"))
        let pageSize = 4096
        // Every 4th byte of the two meta pages' headers, then a spread over the whole file.
        var offsets: [Int] = []
        for page in 0..<2 { offsets += stride(from: page * pageSize + 16, to: page * pageSize + 160, by: 4) }
        var generator = SplitMix64(seed: 0x5EED)
        while offsets.count < 320 { offsets.append(Int(generator.next() % UInt64(data.count))) }
        var detected = 0
        var harmless = 0
        for offset in offsets {
            let copy = TemporaryEventLog.makeDirectory(prefix: "cumulus-flip")
            defer { try? FileManager.default.removeItem(atPath: copy) }
            var damaged = data
            damaged[offset] ^= 0x01 << UInt8(offset % 8)
            try damaged.write(to: URL(fileURLWithPath: copy + "/data.mdb"))
            let result = try await snapshot(of: copy)
            if !result.verified {
                detected += 1
            } else {
                let changed = zip(result.content.split(separator: "\n"), baseline.content.split(separator: "\n"))
                    .first { $0 != $1 }
                #expect(
                    result.content == baseline.content,
                    "flip at offset \(offset) was accepted and changed the log: \(String(describing: changed))"
                )
                harmless += 1
            }
        }
        #expect(detected >= 40, "only \(detected) of \(offsets.count) flips were detected")
        print("byte flips: \(detected) detected, \(harmless) in unused space left the log unchanged")
    }

    /// Runs `cumulus verify` and, if it passes, reads every event and the stats.
    private func snapshot(of directory: String) async throws -> (verified: Bool, content: String) {
        let verify = try await ChildProcess.run("cumulus", ["verify", "--data-dir", directory], timeout: 60)
        guard verify.status == 0 else {
            #expect(verify.status == 1, "verify did not fail cleanly (status \(verify.status)): \(verify.error)")
            return (false, "")
        }
        let read = try await ChildProcess.run("cumulus", ["read", "--data-dir", directory], timeout: 60)
        let stats = try await ChildProcess.run("cumulus", ["stats", "--data-dir", directory], timeout: 60)
        let figures = stats.output.split(separator: "\n").filter { !$0.hasPrefix("directory:") }.joined(separator: "\n")
        return (true, read.output + figures + verify.output)
    }
}
