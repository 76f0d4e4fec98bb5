internal import CLMDB
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Damage that LMDB cannot return as an error: an assertion inside LMDB (it calls `abort()`), or a fault
/// (SIGSEGV, SIGBUS) while it follows a damaged page. By default the process dies of the signal, as LMDB
/// does; a tool that prefers a sentence and an exit status calls ``exitOnDamage(status:)`` once.
///
/// The checks made when a log is opened (``LMDBEventStore/open(directory:options:logger:metricsFactory:)``: meta pages, file size,
/// chain head) catch the damage that can be caught cheaply; this is for the rest (a zeroed or altered page
/// in the middle of the file).
public enum StorageFaults {
    /// After this call, an LMDB assertion or a SIGSEGV/SIGBUS in this process prints one line —
    /// `cumulus: the log is damaged: …`, with the position `verify` had reached when it was walking — and
    /// exits with `status` instead of dying of the signal. Nothing is committed after it: the write
    /// transaction in progress, if any, is lost with the process, as with any crash.
    ///
    /// Meant for command-line tools; a server that embeds the log should rather let its supervisor see the
    /// crash. Calling it again changes only the status.
    public static func exitOnDamage(status: Int32) {
        faultStatus.store(status, ordering: .relaxed)
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // Allocated now, used from the signal handler, which must not allocate.
        faultBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: faultBufferSize)
        _ = walkPosition.load(ordering: .relaxed)
        _ = walkAddress.load(ordering: .relaxed)
        _ = mapAddress.load(ordering: .relaxed)
        _ = mapPageSize.load(ordering: .relaxed)
        signal(SIGSEGV, onFault)
        signal(SIGBUS, onFault)
    }

    /// Whether ``exitOnDamage(status:)`` was called.
    static var exits: Bool { installed.load(ordering: .relaxed) }

    /// Records where a whole-log walk is, for the report of a fault during it.
    @inline(__always)
    static func walking(position: UInt64, record: UnsafeRawBufferPointer) {
        walkPosition.store(position, ordering: .relaxed)
        walkAddress.store(UInt(bitPattern: record.baseAddress), ordering: .relaxed)
    }

    /// Where the walk reads the map: the map's base address and page size, to turn a record's address into
    /// a page number.
    static func walk(mapBase: UnsafeMutableRawPointer?, pageSize: UInt32) {
        mapAddress.store(UInt(bitPattern: mapBase), ordering: .relaxed)
        mapPageSize.store(UInt(pageSize), ordering: .relaxed)
        walkPosition.store(0, ordering: .relaxed)
        walkAddress.store(0, ordering: .relaxed)
    }

    /// The walk is over: a fault now is not near its position.
    static func walkEnded() {
        walkPosition.store(0, ordering: .relaxed)
        walkAddress.store(0, ordering: .relaxed)
    }

    /// "near position N (page P)" when a walk is under way, else "".
    static var location: String {
        let position = walkPosition.load(ordering: .relaxed)
        guard position > 0 else { return "" }
        let address = walkAddress.load(ordering: .relaxed)
        let base = mapAddress.load(ordering: .relaxed)
        let pageSize = mapPageSize.load(ordering: .relaxed)
        guard address >= base, base != 0, pageSize > 0 else { return " near position \(position)" }
        return " near position \(position) (page \((address - base) / pageSize))"
    }

    /// LMDB's assertion callback: names the damage and exits when asked to, else returns and LMDB aborts.
    static let assertion: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Void = { environment, message in
        var pathPointer: UnsafePointer<CChar>?
        if let environment { mdb_env_get_path(environment, &pathPointer) }
        let path = pathPointer.map { String(cString: $0) } ?? "the log"
        let text = message.map { String(cString: $0) } ?? "an assertion failed"
        let near = location
        let line =
            "cumulus: the log at \(path) is damaged: the storage engine found an inconsistent page"
            + "\(near) (\(text)); nothing more was written. "
            + (near.isEmpty ? "Run `cumulus verify`; restore" : "Restore") + " data.mdb from a backup\n"
        writeAll(Array(line.utf8))
        if exits { _exit(faultStatus.load(ordering: .relaxed)) }
    }

    private static func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(2, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    private static let installed = Atomic<Bool>(false)
    private static let faultStatus = Atomic<Int32>(1)
    private static let walkPosition = Atomic<UInt64>(0)
    private static let walkAddress = Atomic<UInt>(0)
    private static let mapAddress = Atomic<UInt>(0)
    private static let mapPageSize = Atomic<UInt>(0)
    fileprivate static let faultBufferSize = 512
    nonisolated(unsafe) fileprivate static var faultBuffer: UnsafeMutablePointer<UInt8>?

    /// Builds the fault report in the preallocated buffer, using nothing but stores and `write(2)`.
    fileprivate static func reportFault(_ signal: Int32) {
        guard let buffer = faultBuffer else { return }
        var length = 0
        func append(_ text: StaticString) {
            text.withUTF8Buffer { bytes in
                for byte in bytes where length < faultBufferSize {
                    buffer[length] = byte
                    length += 1
                }
            }
        }
        func append(_ number: UInt) {
            var digits:
                (
                    UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                    UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
                ) =
                    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            var rest = number
            withUnsafeMutableBytes(of: &digits) { raw in
                repeat {
                    raw[count] = UInt8(48 + rest % 10)
                    rest /= 10
                    count += 1
                } while rest > 0 && count < 20
                while count > 0 && length < faultBufferSize {
                    count -= 1
                    buffer[length] = raw[count]
                    length += 1
                }
            }
        }
        append("cumulus: the log is damaged: the storage engine faulted (")
        append(signal == SIGBUS ? "SIGBUS" : "SIGSEGV")
        append(") reading the data file")
        let position = walkPosition.load(ordering: .relaxed)
        if position > 0 {
            append(" near position ")
            append(UInt(position))
            let address = walkAddress.load(ordering: .relaxed)
            let base = mapAddress.load(ordering: .relaxed)
            let pageSize = mapPageSize.load(ordering: .relaxed)
            if address >= base, base != 0, pageSize > 0 {
                append(" (page ")
                append((address - base) / pageSize)
                append(")")
            }
        }
        append(
            position > 0
                ? "; nothing more was written. Restore" : "; nothing more was written. Run `cumulus verify`; restore")
        append(" data.mdb from a backup\n")
        var offset = 0
        while offset < length {
            let written = write(2, buffer + offset, length - offset)
            if written <= 0 { break }
            offset += written
        }
    }
}

/// The SIGSEGV/SIGBUS handler: report, then exit without running anything else of this process.
private func onFault(_ signal: Int32) {
    StorageFaults.reportFault(signal)
    _exit(StorageFaults.faultStatusForHandler)
}

extension StorageFaults {
    fileprivate static var faultStatusForHandler: Int32 { faultStatus.load(ordering: .relaxed) }
}
