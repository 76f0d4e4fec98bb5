public import CumulusLog
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Restores a log whose LMDB refuses it because one of its two meta pages is zeroed or damaged, from the
/// other, intact meta page.
///
/// What it does, in order (the original is never written to):
/// 1. reads both meta pages with `pread`; repairs only when exactly one is intact and the file holds every
///    page the intact one's commit uses;
/// 2. refuses while any process has the log open (it takes LMDB's exclusive lock on `lock.mdb`);
/// 3. copies `data.mdb` into a fresh directory beside it and overwrites the bad meta page there with the
///    intact one (its page number set to the bad page's), so both name the same commit;
/// 4. opens the copy and verifies it completely (hash chain, every index, meta chain head and transaction
///    stamp); a copy that does not verify is deleted and the log left as it was;
/// 5. renames the original to `data.mdb.damaged-<UTC time>` (the backup) and moves the copy in its place,
///    then opens and verifies the log again.
///
/// The same by hand: copy `data.mdb`, `dd` the intact meta page over the bad one (`bs=4096`, fixing bytes
/// 0–7 of the copy to the page number), `cumulus verify` the copy, swap the files.
/// `mdb_copy` cannot do it: it opens the file with LMDB, which refuses it.
public enum MetaPageRepair {
    /// What ``repair(directory:)`` found and did.
    public enum Outcome: Sendable {
        /// Both meta pages are intact and the file is whole: nothing was changed.
        case nothingToRepair(transaction: UInt64)
        /// `page` was rewritten from the other meta page, which records `transaction`; the damaged file is
        /// kept at `backup`; `report` is the verification of the repaired log.
        case repaired(page: Int, damage: String, transaction: UInt64, backup: String, report: VerificationReport)
    }

    /// Repairs the log in `directory`; see the type's documentation for the steps.
    /// - Throws: `EventStoreError.logNotFound(path:)`, `EventStoreError.integrityViolation(position:reason:)`
    ///   when the damage is not one bad meta page (or the repaired copy does not verify), and
    ///   `EventStoreError.system(operation:path:errno:message:)` for failed file operations; the log is
    ///   left as it was in every case.
    public static func repair(directory: String) async throws(EventStoreError) -> Outcome {
        let directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        let dataFile = directory + "/data.mdb"
        guard FileManager.default.fileExists(atPath: dataFile) else { throw .logNotFound(path: directory) }
        guard let header = try DataFileHeader.read(path: dataFile) else {
            throw .notACumulusLog(path: directory, reason: "data.mdb is too short to hold an LMDB meta page")
        }
        let metas = header.metas
        let intact = metas.indices.filter { metas[$0].transaction != nil }
        if intact.count == 2 {
            try DataFileCheck.check(header, directory: directory)
            return .nothingToRepair(transaction: header.current?.transaction ?? 0)
        }
        guard intact.count == 1, let current = header.current, let required = header.requiredSize else {
            throw .integrityViolation(
                position: nil,
                reason: "repair needs one intact meta page, and neither is (meta page 0 is \(metas[0].summary), "
                    + "meta page 1 is \(metas[1].summary)); restore data.mdb from a backup"
            )
        }
        guard header.fileSize >= required else {
            try DataFileCheck.check(header, directory: directory)
            throw .integrityViolation(position: nil, reason: "data.mdb is truncated; restore it from a backup")
        }
        let bad = 1 - current.index
        let lock = try ExclusiveLock(directory: directory)
        defer { lock.release() }
        let work = directory + "/repair-\(getpid())"
        try? FileManager.default.removeItem(atPath: work)
        try call("mkdir", work) { mkdir(work, 0o755) }
        defer { try? FileManager.default.removeItem(atPath: work) }
        try copyPatched(from: dataFile, to: work + "/data.mdb", header: header, from: current.index, to: bad)
        do {
            _ = try await verified(work)
        } catch {
            throw .integrityViolation(
                position: nil,
                reason: "the copy restored from meta page \(current.index) does not verify (\(error)); "
                    + "data.mdb was left as it was — restore it from a backup"
            )
        }
        let backup = dataFile + ".damaged-" + timestamp()
        try call("rename", dataFile) { rename(dataFile, backup) }
        do throws(EventStoreError) {
            try call("rename", work + "/data.mdb") { rename(work + "/data.mdb", dataFile) }
        } catch {
            _ = rename(backup, dataFile)
            throw error
        }
        lock.release()
        let report = try await verified(directory)
        return .repaired(
            page: bad, damage: metas[bad].summary, transaction: current.transaction, backup: backup, report: report)
    }

    private static func verified(_ directory: String) async throws(EventStoreError) -> VerificationReport {
        let store = try LMDBEventStore.open(directory: directory)
        defer { store.close() }
        return try await store.verify(progress: nil)
    }

    /// Copies `source` to `destination`, writing meta page `good` over meta page `bad` (with its own page
    /// number), and flushes the copy.
    private static func copyPatched(
        from source: String, to destination: String, header: DataFileHeader, from good: Int, to bad: Int
    ) throws(EventStoreError) {
        let input = open(source, O_RDONLY)
        guard input >= 0 else { throw failure("open", source) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard output >= 0 else { throw failure("open", destination) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(input, $0.baseAddress, $0.count, offset) }
            guard count >= 0 else { throw failure("pread", source) }
            if count == 0 { break }
            try writeAll(output, Array(buffer.prefix(count)), at: offset, path: destination)
            offset += off_t(count)
        }
        let pageSize = header.pageSize
        var page = [UInt8](repeating: 0, count: pageSize)
        let count = page.withUnsafeMutableBytes { pread(input, $0.baseAddress, pageSize, off_t(good * pageSize)) }
        guard count == pageSize else { throw failure("pread", source) }
        // The page header starts with the page's own number (8 bytes, little-endian on the machines LMDB
        // runs on here).
        withUnsafeBytes(of: UInt64(bad).littleEndian) { number in
            for index in 0..<8 { page[index] = number[index] }
        }
        try writeAll(output, page, at: off_t(bad * pageSize), path: destination)
        guard fsync(output) == 0 else { throw failure("fsync", destination) }
    }

    private static func writeAll(
        _ descriptor: Int32, _ bytes: [UInt8], at offset: off_t, path: String
    )
        throws(EventStoreError)
    {
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return pwrite(descriptor, base + done, raw.count - done, offset + off_t(done))
            }
            guard written > 0 else { throw failure("pwrite", path) }
            done += written
        }
    }

    private static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: Date())
    }

    private static func call(_ operation: String, _ path: String, _ call: () -> Int32) throws(EventStoreError) {
        guard call() == 0 else { throw failure(operation, path) }
    }

    private static func failure(_ operation: String, _ path: String) -> EventStoreError {
        let code = errno
        return .system(operation: operation, path: path, errno: code, message: String(cString: strerror(code)))
    }

    /// LMDB's own exclusive lock on `lock.mdb` (a write lock on its first byte): held, no other process has
    /// the environment open.
    private final class ExclusiveLock {
        private var descriptor: Int32

        init(directory: String) throws(EventStoreError) {
            let path = directory + "/lock.mdb"
            descriptor = open(path, O_RDWR | O_CREAT, 0o644)
            guard descriptor >= 0 else { throw MetaPageRepair.failure("open", path) }
            var lock = flock()
            lock.l_type = Int16(F_WRLCK)
            lock.l_whence = Int16(SEEK_SET)
            lock.l_start = 0
            lock.l_len = 1
            guard fcntl(descriptor, F_SETLK, &lock) == 0 else {
                close(descriptor)
                descriptor = -1
                throw .integrityViolation(
                    position: nil,
                    reason: "another process has the log at \(directory) open; stop it, then run `cumulus repair` again"
                )
            }
        }

        func release() {
            guard descriptor >= 0 else { return }
            close(descriptor)
            descriptor = -1
        }

        deinit { release() }
    }
}
