import CLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

@testable import CumulusLMDB

@Suite("Opening a directory")
struct OpeningTests {
    let scratch = TemporaryDirectory(prefix: "cumulus-open")
    var directory: String { scratch.path }

    func contents(_ path: String) -> [String: Data] {
        var result: [String: Data] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            result[name] = FileManager.default.contents(atPath: path + "/" + name)
        }
        return result
    }

    @Test func missingDirectoryIsNotCreatedWithoutAsking() throws {
        let path = directory + "/absent"
        #expect {
            _ = try LMDBEventStore.open(directory: path)
        } throws: { error in
            guard case .logNotFound(let reported) = error as? EventStoreError else { return false }
            return reported.hasSuffix("/absent")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func directoryWithOtherFilesIsRefusedAndUntouched() throws {
        try Data("notes".utf8).write(to: URL(fileURLWithPath: directory + "/notes.txt"))
        let before = contents(directory)
        do {
            _ = try LMDBEventStore.open(directory: directory, options: .init(create: true))
            Issue.record("a directory holding other files was opened as a log")
        } catch {
            guard case .notACumulusLog(_, let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(reason.contains("notes.txt"))
        }
        #expect(contents(directory) == before)
    }

    @Test func garbageDataFileIsRefusedAndUntouched() throws {
        let garbage = Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: directory + "/data.mdb"))
        #expect {
            _ = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        } throws: { error in
            if case .notACumulusLog = error as? EventStoreError { return true }
            return false
        }
        #expect(FileManager.default.contents(atPath: directory + "/data.mdb") == garbage)
    }

    @Test func foreignLMDBEnvironmentIsRefusedAndUntouched() throws {
        // Another application's LMDB environment: a valid file, but none of Cumulus's databases.
        var environment: OpaquePointer?
        #expect(mdb_env_create(&environment) == 0)
        mdb_env_set_maxdbs(environment, 4)
        #expect(mdb_env_open(environment, directory, 0, 0o644) == 0)
        var txn: OpaquePointer?
        #expect(mdb_txn_begin(environment, nil, 0, &txn) == 0)
        var handle: MDB_dbi = 0
        #expect(mdb_dbi_open(txn, "somethingElse", UInt32(MDB_CREATE), &handle) == 0)
        var keyBytes: [UInt8] = [1, 2, 3]
        var valueBytes: [UInt8] = [4, 5, 6]
        keyBytes.withUnsafeMutableBytes { keyRaw in
            valueBytes.withUnsafeMutableBytes { valueRaw in
                var key = MDB_val(mv_size: 3, mv_data: keyRaw.baseAddress)
                var value = MDB_val(mv_size: 3, mv_data: valueRaw.baseAddress)
                #expect(mdb_put(txn, handle, &key, &value, 0) == 0)
            }
        }
        #expect(mdb_txn_commit(txn) == 0)
        mdb_env_close(environment)
        let before = FileManager.default.contents(atPath: directory + "/data.mdb")
        #expect {
            _ = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        } throws: { error in
            guard case .notACumulusLog(_, let reason) = error as? EventStoreError else { return false }
            return reason.contains("events")
        }
        #expect(FileManager.default.contents(atPath: directory + "/data.mdb") == before)
    }

    @Test func newerFormatIsRefusedAndUntouched() async throws {
        let store = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        _ = try await store.append(SampleEvents.make(3), to: StreamName("user-1"))
        try store.environment.write { (txn) throws(EventStoreError) in
            let key = Array("format".utf8)
            let value = bytes(of: UInt32(2).littleEndian)
            try withBytes(key) { (keyRaw) throws(EventStoreError) in
                try withBytes(value) { (valueRaw) throws(EventStoreError) in
                    try txn.put(txn.databases.meta, key: keyRaw, value: valueRaw, "test")
                }
            }
        }
        store.close()
        let before = FileManager.default.contents(atPath: directory + "/data.mdb")
        #expect(throws: EventStoreError.unsupportedFormat(path: store.directory, found: 2, supported: 1)) {
            _ = try LMDBEventStore.open(directory: directory)
        }
        #expect(FileManager.default.contents(atPath: directory + "/data.mdb") == before)
    }

    @Test func reopeningContinuesTheLogAndTheChain() async throws {
        var store = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        _ = try await store.append(SampleEvents.make(5, label: "first"), to: StreamName("user-1"))
        let firstReport = try await store.verify()
        store.close()
        store = try LMDBEventStore.open(directory: directory)
        defer { store.close() }
        let result = try await store.append(
            SampleEvents.make(2, label: "second"), to: StreamName("user-1"), expecting: .exactly(StreamVersion(5)))
        #expect(result.firstPosition == GlobalPosition(6))
        #expect(result.streamVersion == StreamVersion(7))
        let report = try await store.verify()
        #expect(report.eventCount == 7)
        #expect(report.headLink != firstReport.headLink)
    }

    @Test func openingTwiceInOneProcessGivesTwoHandlesOnOneEnvironment() throws {
        let first = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        defer { first.close() }
        let second = try LMDBEventStore.open(directory: directory + "/.")
        defer { second.close() }
        #expect(first !== second)
        #expect(first.environment === second.environment)
        #expect(first.directory == second.directory)
    }

    @Test func closedStoreRefusesWork() async throws {
        let store = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        store.close()
        await #expect(throws: EventStoreError.closed) {
            _ = try await store.append(SampleEvents.make(1), to: StreamName("user-1"))
        }
    }
}
