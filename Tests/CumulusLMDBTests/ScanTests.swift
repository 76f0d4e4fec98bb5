internal import CLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

@testable import CumulusLMDB

/// `scan` walks the log one record ahead and reuses repeated text; neither may change what it delivers.
@Suite("scan delivers every event exactly as stored")
struct ScanTests {
    func makeLog() async throws -> TemporaryEventLog {
        let log = try TemporaryEventLog()
        for index in 0..<30 {
            let type = index % 4 == 0 ? "Renamed" : "PresenceChanged"
            let actor = index % 3 == 0 ? "presenceFeed:tenant-\(index % 2)" : "systemAdmin"
            _ = try await log.store.append(
                SampleEvents.make(1 + index % 3, type: type, label: "s\(index)", actor: actor),
                to: StreamName("user-\(index % 5)"))
        }
        return log
    }

    @Test(arguments: [1, 7, 1000])
    func scanInChunksMatchesSingleEventReads(chunk: Int) async throws {
        let log = try await makeLog()
        var scanned: [RecordedEvent] = []
        var position = GlobalPosition.start
        while true {
            let last = try log.store.scan(after: position, maximumCount: chunk) { scanned.append($0) }
            if last == position { break }
            position = last
        }
        #expect(scanned.count == 60)
        for (index, event) in scanned.enumerated() {
            #expect(event.position == GlobalPosition(UInt64(index + 1)))
            let single = try await log.store.event(id: event.id)
            #expect(single == event)
        }
    }

    @Test func aCheckedScanFromTheEndOrPastItFindsNothingAndNoDamage() async throws {
        let log = try await makeLog()
        var seen = 0
        #expect(
            try log.store.scanChecked(after: GlobalPosition(0), maximumCount: 100) { _ in seen += 1 }
                == GlobalPosition(60))
        #expect(seen == 60)
        // There is no record after the end to read and none before a position past it to link from: that is the
        // end of the log, not a missing event.
        for after: UInt64 in [60, 61, 1_000] {
            let last = try log.store.scanChecked(after: GlobalPosition(after), maximumCount: 10) { _ in seen += 1 }
            #expect(last == GlobalPosition(after))
        }
        #expect(seen == 60)
    }

    @Test func damagedRecordStopsTheScanAtItsPosition() async throws {
        let log = try await makeLog()
        try log.store.environment.write { (txn) throws(EventStoreError) in
            let key = bytes(of: UInt64(37).bigEndian)
            guard
                let current = try withBytes(
                    key, { (raw) throws(EventStoreError) in try txn.get(txn.databases.events, key: raw) })
            else {
                throw .storage(operation: "test", code: -1, message: "no such key")
            }
            let truncated = Array(current.dropLast(40))
            try withBytes(key) { (keyRaw) throws(EventStoreError) in
                try withBytes(truncated) { (valueRaw) throws(EventStoreError) in
                    try txn.put(txn.databases.events, key: keyRaw, value: valueRaw, "test overwrite")
                }
            }
        }
        var delivered: [GlobalPosition] = []
        #expect {
            try log.store.scan(after: .start, maximumCount: 100) { delivered.append($0.position) }
        } throws: { error in
            guard case .integrityViolation(let position, _) = error as? EventStoreError else { return false }
            return position == GlobalPosition(37)
        }
        #expect(delivered == (1...36).map { GlobalPosition(UInt64($0)) })
    }
}
