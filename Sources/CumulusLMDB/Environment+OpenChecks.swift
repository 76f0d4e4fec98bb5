internal import CLMDB
import CumulusLog
import Foundation

extension Environment {
    /// The check every open makes once LMDB has accepted the file: the last stored event is where the meta
    /// chain head says, and carries the link recorded there. One cursor step and one lookup; it catches a
    /// lost or zeroed last leaf page before anything is appended after it.
    func checkChainHead() throws(EventStoreError) {
        try read { (txn) throws(EventStoreError) in
            let last = try txn.lastPosition()
            let (position, link) = try Metadata.chainHead(txn)
            guard position == last else {
                throw .integrityViolation(
                    position: GlobalPosition(max(position, last)),
                    reason: "the last stored event is at position \(last), the recorded chain head at \(position) "
                        + "(\(path)/data.mdb lost or altered pages); nothing was written. Run `cumulus verify`"
                )
            }
            guard last > 0 else { return }
            guard let raw = try txn.record(at: last), raw.count > 32, RecordCodec.storedLink(raw) == link else {
                throw .integrityViolation(
                    position: GlobalPosition(last),
                    reason: "the last event does not carry the recorded chain link (\(path)/data.mdb is damaged); "
                        + "nothing was written. Run `cumulus verify`"
                )
            }
        }
    }

    /// The map's base address and page size, for naming the page a damaged record sits on.
    ///
    /// LMDB does not tell where it mapped the file (`me_mapaddr` is the fixed address asked for, usually
    /// none), so the address is read from `/proc/self/maps` where there is one; elsewhere pages go unnamed.
    var mapLayout: (base: UnsafeMutableRawPointer?, pageSize: UInt32) {
        var stat = MDB_stat()
        mdb_env_stat(pointer, &stat)
        return (Self.mappingAddress(of: path + "/data.mdb"), stat.ms_psize)
    }

    private static func mappingAddress(of file: String) -> UnsafeMutableRawPointer? {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return nil }
        let resolved = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
        for line in maps.split(separator: "\n") where line.hasSuffix(" " + resolved) || line.hasSuffix(" " + file) {
            // "start-end perms offset dev inode path": the mapping at file offset 0 is the map's base.
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, UInt64(fields[2], radix: 16) == 0,
                let start = fields[0].split(separator: "-").first, let address = UInt(start, radix: 16)
            else { continue }
            return UnsafeMutableRawPointer(bitPattern: address)
        }
        return nil
    }
}
