internal import CLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

@testable import CumulusLMDB

/// Alters one stored value at a time, through the storage layer, and checks that `verify` names the place.
@Suite("verify names the first damaged position")
struct VerifyTests {
    func makeLog() async throws -> TemporaryEventLog {
        let log = try TemporaryEventLog()
        for index in 0..<20 {
            _ = try await log.store.append(
                SampleEvents.make(5, label: "v\(index)"), to: StreamName("user-\(index % 3)"))
        }
        try await log.store.save(Checkpoint(name: "current-state", position: GlobalPosition(100), state: [1, 2, 3]))
        return log
    }

    func overwrite(
        _ log: TemporaryEventLog,
        database: (Databases) -> MDB_dbi,
        key: [UInt8],
        restamp: Bool = true,
        _ change: ([UInt8]) -> [UInt8]
    ) throws {
        try log.store.environment.write { (txn) throws(EventStoreError) in
            let handle = database(txn.databases)
            guard let current = try withBytes(key, { (raw) throws(EventStoreError) in try txn.get(handle, key: raw) })
            else {
                throw .storage(operation: "test", code: -1, message: "no such key")
            }
            let changed = change(Array(current))
            try withBytes(key) { (keyRaw) throws(EventStoreError) in
                try withBytes(changed) { (valueRaw) throws(EventStoreError) in
                    try txn.put(handle, key: keyRaw, value: valueRaw, "test overwrite")
                }
            }
            // A careful tamperer also updates the transaction stamp, so the check under test is reached.
            if restamp { try Metadata.stampTransaction(txn) }
        }
    }

    func expectDamage(_ log: TemporaryEventLog, at position: UInt64?, containing text: String) async {
        await #expect {
            _ = try await log.store.verify()
        } throws: { error in
            guard case .integrityViolation(let reported, let reason) = error as? EventStoreError else { return false }
            return reported?.rawValue == position && reason.contains(text)
        }
    }

    @Test(arguments: [0, 9, 20, 40, 60])
    func alteredRecordByteIsNamed(byte: Int) async throws {
        let log = try await makeLog()
        try overwrite(log, database: \.events, key: bytes(of: UInt64(37).bigEndian)) { record in
            var record = record
            record[min(byte, record.count - 1)] ^= 0x20
            return record
        }
        // Either the record no longer decodes, or its link no longer matches: both name position 37.
        await #expect {
            _ = try await log.store.verify()
        } throws: { error in
            guard case .integrityViolation(let position, _) = error as? EventStoreError else { return false }
            return position == GlobalPosition(37)
        }
    }

    @Test func alteredPayloadBreaksTheChain() async throws {
        let log = try await makeLog()
        try overwrite(log, database: \.events, key: bytes(of: UInt64(12).bigEndian)) { record in
            var record = record
            record[record.count - 33] ^= 0x01  // the payload's last byte, just before the link
            return record
        }
        await expectDamage(log, at: 12, containing: "hash chain")
    }

    @Test func alteredStreamHeadIsNamed() async throws {
        let log = try await makeLog()
        try overwrite(log, database: \.streams, key: Array("user-1".utf8)) { head in
            var head = head
            head[0] &+= 1
            return head
        }
        await #expect {
            _ = try await log.store.verify()
        } throws: { error in
            guard case .integrityViolation(_, let reason) = error as? EventStoreError else { return false }
            return reason.contains("head of stream 'user-1'")
        }
    }

    @Test func alteredEventIndexIsNamed() async throws {
        let log = try await makeLog()
        let event = try #require(try await log.store.readAll(after: GlobalPosition(49), maximumCount: 1).first)
        try overwrite(log, database: \.eventIDs, key: event.id.bytes) { _ in bytes(of: UInt64(3).bigEndian) }
        await expectDamage(log, at: 50, containing: "event-id index")
    }

    @Test func alteredCheckpointIsNamed() async throws {
        let log = try await makeLog()
        try overwrite(log, database: \.checkpoints, key: Array("current-state".utf8)) { value in
            var value = value
            value[value.count - 1] ^= 0xFF
            return value
        }
        await expectDamage(log, at: nil, containing: "checkpoint 'current-state'")
        await #expect(throws: EventStoreError.self) { _ = try await log.store.checkpoint(named: "current-state") }
    }

    @Test func aRolledBackMetaPageIsCaught() async throws {
        let log = try await makeLog()
        // Make the stamped transaction id disagree with the snapshot, as after a damaged meta page.
        try overwrite(log, database: \.meta, key: Array("txn".utf8), restamp: false) { _ in
            bytes(of: UInt64(1).littleEndian)
        }
        // The overwrite itself is a write transaction that does not re-stamp: the ids now disagree.
        await expectDamage(log, at: 100, containing: "meta page")
    }

    @Test func soundLogReportsItsHead() async throws {
        let log = try await makeLog()
        let report = try await log.store.verify()
        #expect(report.eventCount == 100 && report.streamCount == 3 && report.checkpointCount == 1)
        #expect(report.headLink.count == 64)
    }
}
