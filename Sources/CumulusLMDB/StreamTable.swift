import CumulusLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The streams one write transaction has looked at, in a dense table: each stream gets a slot number once,
/// and everything the writer needs about it lives in that slot.
///
/// Why not a dictionary keyed by `StreamName`: hashing a name costs more than everything else the writer
/// does per stream, and sorting names with `String` comparisons more still. A request's streams are distinct
/// (checked by the caller and again here), so the first request of a transaction needs no lookup at all;
/// the index by name is built only when a second request arrives. Each name's bytes — its LMDB key — are
/// kept in one arena, with their first 16 bytes as two integers so that sorting in LMDB's key order rarely
/// needs `memcmp`.
struct StreamTable {
    struct Slot {
        /// The stream's head as this transaction sees it.
        var head = StreamHead(version: 0, lastPosition: 0)
        /// Whether this transaction changed the head.
        var isDirty = false
        /// The number of the last request that named the stream (to catch a name given twice).
        var claim: Int
        /// The first 16 bytes of the name, big-endian, zero-padded: compare these first.
        let prefixHigh: UInt64
        let prefixLow: UInt64
        /// Where the name's bytes are in the arena.
        let keyStart: Int
        let keyCount: Int
    }

    private(set) var slots: [Slot] = []
    private(set) var names: [StreamName] = []
    /// The names' bytes, one after another; ``key(of:in:)`` finds one in them.
    private(set) var keys: [UInt8] = []
    private var index: [StreamName: Int]?

    var isEmpty: Bool { slots.isEmpty }
    var count: Int { slots.count }

    mutating func reserveCapacity(_ count: Int) {
        slots.reserveCapacity(count)
        names.reserveCapacity(count)
        keys.reserveCapacity(count * 48)
    }

    /// The slot of `stream`, or nil when the table does not hold it.
    mutating func slot(of stream: StreamName) -> Int? {
        if index == nil {
            var built: [StreamName: Int] = [:]
            built.reserveCapacity(names.count * 2)
            for slot in names.indices { built[names[slot]] = slot }
            index = built
        }
        return index?[stream]
    }

    /// Marks `slot` as named by `request`; false when that request named it already.
    mutating func claim(_ slot: Int, for request: Int) -> Bool {
        guard slots[slot].claim != request else { return false }
        slots[slot].claim = request
        return true
    }

    /// Adds `stream` (which the table must not hold) for `request`; its head is to be read.
    mutating func add(_ stream: StreamName, for request: Int) -> Int {
        let start = keys.count
        let utf8 = stream.rawValue.utf8
        if utf8.withContiguousStorageIfAvailable({ keys.append(contentsOf: $0) }) == nil {
            keys.append(contentsOf: utf8)
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for offset in 0..<min(keys.count - start, 16) {
            let byte = UInt64(keys[start + offset])
            if offset < 8 { high |= byte << (56 - 8 * offset) } else { low |= byte << (56 - 8 * (offset - 8)) }
        }
        let slot = slots.count
        slots.append(
            Slot(claim: request, prefixHigh: high, prefixLow: low, keyStart: start, keyCount: keys.count - start))
        names.append(stream)
        index?[stream] = slot
        return slot
    }

    /// Forgets the slots from `count` on (added by a request that was then refused before reading them).
    mutating func removeSlots(from count: Int) {
        guard count < slots.count else { return }
        if index != nil {
            for slot in count..<slots.count { index?[names[slot]] = nil }
        }
        keys.removeSubrange(slots[count].keyStart...)
        slots.removeSubrange(count...)
        names.removeSubrange(count...)
    }

    mutating func setHead(_ head: StreamHead, of slot: Int, dirty: Bool) {
        slots[slot].head = head
        if dirty { slots[slot].isDirty = true }
    }

    /// Sorts slot numbers in LMDB's key order (byte-wise, shorter first on a tie); already sorted runs cost
    /// one pass.
    func sort(_ order: inout [Int]) {
        slots.withUnsafeBufferPointer { slots in
            keys.withUnsafeBytes { keys in
                order.sort { Self.compare(slots[$0], slots[$1], keys) < 0 }
            }
        }
    }

    /// Whether two slots hold the same name.
    func sameName(_ first: Int, _ second: Int) -> Bool {
        slots.withUnsafeBufferPointer { slots in
            keys.withUnsafeBytes { keys in Self.compare(slots[first], slots[second], keys) == 0 }
        }
    }

    /// Calls `body` with the LMDB key of `slot`: the name's UTF-8 bytes.
    func withKey<R>(
        of slot: Int,
        _ body: (UnsafeRawBufferPointer) throws(EventStoreError) -> R
    ) throws(EventStoreError) -> R {
        let entry = slots[slot]
        let result: Result<R, EventStoreError> = keys.withUnsafeBytes { keys in
            Result { () throws(EventStoreError) -> R in
                try body(UnsafeRawBufferPointer(rebasing: keys[entry.keyStart..<entry.keyStart + entry.keyCount]))
            }
        }
        return try result.get()
    }

    /// The LMDB key of `slot` in `keys`, the bytes of ``keys``.
    func key(of slot: Int, in keys: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let entry = slots[slot]
        return UnsafeRawBufferPointer(rebasing: keys[entry.keyStart..<entry.keyStart + entry.keyCount])
    }

    private static func compare(_ first: Slot, _ second: Slot, _ keys: UnsafeRawBufferPointer) -> Int32 {
        if first.prefixHigh != second.prefixHigh { return first.prefixHigh < second.prefixHigh ? -1 : 1 }
        if first.prefixLow != second.prefixLow { return first.prefixLow < second.prefixLow ? -1 : 1 }
        let common = min(first.keyCount, second.keyCount)
        if common > 16, let base = keys.baseAddress {
            let order = memcmp(base + first.keyStart + 16, base + second.keyStart + 16, common - 16)
            if order != 0 { return order }
        }
        return first.keyCount == second.keyCount ? 0 : first.keyCount < second.keyCount ? -1 : 1
    }
}
