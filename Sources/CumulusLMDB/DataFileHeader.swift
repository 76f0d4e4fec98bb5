import CumulusLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two LMDB meta pages at the start of `data.mdb`, read with `pread` — never through the memory map, so
/// that a damaged or truncated file is named here instead of faulting (SIGBUS) inside LMDB later.
///
/// LMDB keeps two meta pages (pages 0 and 1) and uses the one with the higher transaction id. Each is a
/// 16-byte page header (page number, flags with `P_META`) followed by `MDB_meta` (64-bit layout):
///
/// | offset in page | field |
/// | --- | --- |
/// | 16 | `mm_magic` u32 = 0xBEEFC0DE |
/// | 20 | `mm_version` u32 = 1 |
/// | 40 | `mm_psize` (the free database's `md_pad`) u32: the page size |
/// | 136 | `mm_last_pg` u64: the last page the commit uses |
/// | 144 | `mm_txnid` u64: the commit's transaction id |
struct DataFileHeader {
    /// What one meta page holds.
    enum MetaPage: Equatable {
        /// A valid meta page of the commit `transaction`, whose pages end at `lastPage`.
        case intact(transaction: UInt64, lastPage: UInt64, pageSize: Int)
        /// Every byte of the page's header and meta record is zero.
        case zeroed
        /// The page is not a valid meta page (the reason says why).
        case damaged(String)
        /// A valid LMDB meta page of another data version (LMDB itself reports it).
        case otherVersion(UInt32)

        var transaction: UInt64? {
            if case .intact(let transaction, _, _) = self { return transaction }
            return nil
        }

        /// "intact at txn N", "zeroed", "damaged (reason)".
        var summary: String {
            switch self {
            case .intact(let transaction, let lastPage, _):
                return "intact at txn \(transaction) (last page \(lastPage))"
            case .zeroed: return "zeroed"
            case .damaged(let reason): return "damaged (\(reason))"
            case .otherVersion(let version): return "of LMDB data version \(version)"
            }
        }
    }

    static let magic: UInt32 = 0xBEEF_C0DE
    static let dataVersion: UInt32 = 1
    static let metaFlag: UInt16 = 0x08
    /// Bytes of a meta page that carry the header and `MDB_meta`.
    static let metaBytes = 152

    let fileSize: UInt64
    let pageSize: Int
    let metas: [MetaPage]

    /// The meta page LMDB would use: the intact one with the higher transaction id (page 0 on a tie).
    var current: (index: Int, transaction: UInt64, lastPage: UInt64)? {
        var best: (index: Int, transaction: UInt64, lastPage: UInt64)?
        for (index, meta) in metas.enumerated() {
            guard case .intact(let transaction, let lastPage, _) = meta else { continue }
            if let known = best, known.transaction >= transaction { continue }
            best = (index, transaction, lastPage)
        }
        return best
    }

    /// Bytes the current commit needs: its pages 0…last.
    var requiredSize: UInt64? {
        current.map { ($0.lastPage + 1) * UInt64(pageSize) }
    }

    /// Reads the header of the file at `path`.
    /// - Returns: nil when the file is shorter than one meta record (including empty).
    static func read(path: String) throws(EventStoreError) -> DataFileHeader? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            let code = errno
            throw .system(operation: "open", path: path, errno: code, message: String(cString: strerror(code)))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let code = errno
            throw .system(operation: "fstat", path: path, errno: code, message: String(cString: strerror(code)))
        }
        let fileSize = UInt64(info.st_size)
        guard fileSize >= UInt64(metaBytes) else { return nil }
        let first = try page(descriptor, at: 0, path: path)
        let meta0 = parse(first, index: 0)
        var candidates: [Int] = []
        if case .intact(_, _, let size) = meta0 { candidates = [size] }
        let systemPage = Int(sysconf(Int32(_SC_PAGESIZE)))
        for size in [4096, systemPage, 8192, 16384, 32768, 65536] where !candidates.contains(size) {
            candidates.append(size)
        }
        // Page 1 sits one page in; when page 0 is unreadable, try the page sizes LMDB uses.
        var meta1: MetaPage = .damaged("the file ends before it")
        for size in candidates where UInt64(size + metaBytes) <= fileSize {
            let parsed = parse(try page(descriptor, at: size, path: path), index: 1)
            if case .intact(_, _, let found) = parsed, found != size { continue }
            meta1 = parsed
            if case .intact = parsed { break }
            if case .intact = meta0 { break }
        }
        var pageSize = candidates[0]
        if case .intact(_, _, let size) = meta1 { pageSize = size }
        if case .intact(_, _, let size) = meta0 { pageSize = size }
        return DataFileHeader(fileSize: fileSize, pageSize: pageSize, metas: [meta0, meta1])
    }

    private static func page(_ descriptor: Int32, at offset: Int, path: String) throws(EventStoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: metaBytes)
        let count = bytes.withUnsafeMutableBytes { raw in pread(descriptor, raw.baseAddress, metaBytes, off_t(offset)) }
        guard count >= 0 else {
            let code = errno
            throw .system(operation: "pread", path: path, errno: code, message: String(cString: strerror(code)))
        }
        return count == metaBytes ? bytes : Array(bytes.prefix(count))
    }

    static func parse(_ bytes: [UInt8], index: Int) -> MetaPage {
        guard bytes.count == metaBytes else { return .damaged("the file ends inside it") }
        if bytes.allSatisfy({ $0 == 0 }) { return .zeroed }
        func u16(_ offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
        func u32(_ offset: Int) -> UInt32 { UInt32(u16(offset)) | UInt32(u16(offset + 2)) << 16 }
        func u64(_ offset: Int) -> UInt64 { UInt64(u32(offset)) | UInt64(u32(offset + 4)) << 32 }
        guard u16(10) & metaFlag != 0 else { return .damaged("its page flags do not mark a meta page") }
        guard u32(16) == magic else { return .damaged("its magic number is wrong") }
        guard u32(20) == dataVersion else { return .otherVersion(u32(20)) }
        let pageSize = Int(u32(40))
        guard pageSize >= 512, pageSize <= 65536, pageSize & (pageSize - 1) == 0 else {
            return .damaged("its page size \(pageSize) is impossible")
        }
        guard u64(0) == UInt64(index) else { return .damaged("it calls itself page \(u64(0))") }
        let lastPage = u64(136)
        guard lastPage >= 1 else { return .damaged("its last page \(lastPage) is impossible") }
        return .intact(transaction: u64(144), lastPage: lastPage, pageSize: pageSize)
    }
}

/// The checks made before LMDB maps a data file, and again when the map grows.
enum DataFileCheck {
    /// Refuses a `data.mdb` that LMDB would crash on or silently misread.
    ///
    /// - an empty file (LMDB would re-initialise it as a new log);
    /// - one meta page zeroed or damaged (LMDB refuses the file although the other holds the last commit —
    ///   `cumulus repair` restores it);
    /// - a file shorter than the pages the last commit uses (a truncated copy: reading it would fault).
    ///
    /// - Throws: `EventStoreError.notACumulusLog(path:reason:)` for an empty or foreign file,
    ///   `EventStoreError.integrityViolation(position:reason:)` naming the damage otherwise.
    static func check(directory: String) throws(EventStoreError) {
        let path = directory + "/data.mdb"
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        guard info.st_size > 0 else {
            throw .notACumulusLog(
                path: directory,
                reason: "data.mdb is empty (0 bytes), so it holds no log; if it should, restore it from a backup, "
                    + "else delete it and run `cumulus init`"
            )
        }
        guard let header = try DataFileHeader.read(path: path) else {
            throw .notACumulusLog(path: directory, reason: "data.mdb is \(info.st_size) bytes, too short for LMDB")
        }
        try check(header, directory: directory)
    }

    static func check(_ header: DataFileHeader, directory: String) throws(EventStoreError) {
        let metas = header.metas
        if metas.contains(where: { if case .otherVersion = $0 { true } else { false } }) { return }
        guard let current = header.current else {
            throw .notACumulusLog(
                path: directory,
                reason: "data.mdb is not an LMDB file of a known version (meta page 0 is \(metas[0].summary), "
                    + "meta page 1 is \(metas[1].summary))"
            )
        }
        for index in metas.indices where metas[index].transaction == nil {
            let good = 1 - index
            throw .integrityViolation(
                position: nil,
                reason: "\(directory)/data.mdb: meta page \(index) is \(metas[index].summary); meta page \(good) is "
                    + "\(metas[good].summary). LMDB refuses the file; `cumulus repair` restores the last commit "
                    + "from meta page \(good) (keeping the damaged file as a backup)"
            )
        }
        if let required = header.requiredSize, header.fileSize < required {
            let missing = (required - header.fileSize + UInt64(header.pageSize) - 1) / UInt64(header.pageSize)
            throw .integrityViolation(
                position: nil,
                reason: "\(directory)/data.mdb is truncated: it holds \(header.fileSize) bytes, but its last commit "
                    + "(txn \(current.transaction), meta page \(current.index)) uses pages 0–\(current.lastPage), "
                    + "\(required) bytes; \(missing) page(s) are missing. Restore the file from a backup"
            )
        }
    }
}
