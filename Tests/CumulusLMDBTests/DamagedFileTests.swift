import CumulusLog
import CumulusTesting
import Foundation
import Testing

@testable import CumulusLMDB

/// The open-time checks of a data file (issue 14, items 4 and 5), as an embedding service meets them:
/// typed errors, the file never written.
@Suite("Damaged data files are refused when opening")
struct DamagedFileTests {
    let scratch = TemporaryDirectory(prefix: "cumulus-damaged-open")
    var directory: String { scratch.path }

    /// A log of a few commits, closed; returns the bytes of its data file.
    func makeLog() async throws -> Data {
        let store = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        for batch in 0..<20 {
            _ = try await store.append(SampleEvents.make(20, label: "b\(batch)"), to: StreamName("user-\(batch % 3)"))
        }
        store.close()
        return try Data(contentsOf: URL(fileURLWithPath: directory + "/data.mdb"))
    }

    func write(_ data: Data) throws {
        try data.write(to: URL(fileURLWithPath: directory + "/data.mdb"))
    }

    func openingFails(_ matches: (EventStoreError) -> Bool) {
        #expect {
            _ = try LMDBEventStore.open(directory: directory)
        } throws: { error in
            guard let error = error as? EventStoreError else { return false }
            return matches(error)
        }
    }

    @Test func aTruncatedFileIsNamedBeforeItIsMapped() async throws {
        let data = try await makeLog()
        let header = try #require(try DataFileHeader.read(path: directory + "/data.mdb"))
        #expect(header.requiredSize == UInt64(data.count) && header.pageSize == 4096)
        try write(data.prefix(data.count - 4096))
        openingFails { error in
            guard case .integrityViolation(nil, let reason) = error else { return false }
            return reason.contains("is truncated") && reason.contains("1 page(s) are missing")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/data.mdb")).count == data.count - 4096)
    }

    @Test func oneZeroedMetaPageIsNamedAndRepaired() async throws {
        let data = try await makeLog()
        var damaged = data
        damaged.replaceSubrange(0..<4096, with: Data(count: 4096))
        try write(damaged)
        openingFails { error in
            guard case .integrityViolation(nil, let reason) = error else { return false }
            return reason.contains("meta page 0 is zeroed; meta page 1 is intact at txn")
        }
        guard
            case .repaired(let page, _, _, let backup, let report) = try await MetaPageRepair.repair(
                directory: directory)
        else {
            Issue.record("nothing was repaired")
            return
        }
        #expect(page == 0 && report.eventCount > 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: backup)) == damaged)
        let store = try LMDBEventStore.open(directory: directory)
        defer { store.close() }
        #expect(try await store.verify(progress: nil).eventCount == report.eventCount)
    }

    @Test func anEmptyFileIsNotReinitialised() throws {
        try write(Data())
        #expect {
            _ = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        } throws: { error in
            guard case .notACumulusLog(_, let reason) = error as? EventStoreError else { return false }
            return reason.contains("empty (0 bytes)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/data.mdb")).isEmpty)
    }

    @Test func aLostLastPageIsCaughtByTheChainHead() async throws {
        let data = try await makeLog()
        // Swap the last events leaf for zeros: meta pages and size are fine, the chain head is not.
        var damaged = data
        let bytes = [UInt8](data)
        var lastLeaf: (page: Int, key: UInt64)?
        for page in 2..<(bytes.count / 4096) {
            let base = page * 4096
            guard bytes[base + 10] & 0x02 != 0 else { continue }
            let node = base + (Int(bytes[base + 16]) | Int(bytes[base + 17]) << 8)
            guard node + 16 <= base + 4096, bytes[node + 6] == 8, bytes[node + 7] == 0 else { continue }
            let key = bytes[node + 8..<node + 16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard key < 1_000_000 else { continue }
            if key >= (lastLeaf?.key ?? 0) { lastLeaf = (page, key) }
        }
        let page = try #require(lastLeaf).page
        damaged.replaceSubrange(page * 4096..<(page + 1) * 4096, with: Data(count: 4096))
        try write(damaged)
        openingFails { error in
            if case .integrityViolation = error { return true }
            return false
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/data.mdb")) == damaged)
    }
}
