import Synchronization

public import struct Foundation.UUID

#if canImport(Glibc)
import Glibc
#endif

/// The identity of an event: a UUID, unique in the whole log.
///
/// Appending an event whose id is stored already is idempotent (see ``EventStore``). New ids come from
/// ``generate()``, a time-ordered UUID version 7 (RFC 9562): consecutive ids sort together, so the
/// event-id index grows at its right edge and a batch of appends dirties few index pages. Ids from
/// elsewhere (any UUID version) are accepted too; random ones cost one index page per event.
public struct EventID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The UUID.
    public let uuid: UUID

    /// Wraps a UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }

    /// Parses the canonical text form (`8-4-4-4-12` hexadecimal digits).
    public init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    /// A new time-ordered id (UUID version 7): 48 bits of Unix milliseconds, then a counter that keeps
    /// ids made in the same millisecond in order, then random bits.
    public static func generate() -> EventID { EventID(UUIDv7Generator.shared.next()) }

    /// Builds an id from its 16 bytes in network order.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "an event id has 16 bytes")
        self.uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }

    /// Builds an id from 16 bytes read from storage at `offset`.
    package init(reading buffer: UnsafeRawBufferPointer, at offset: Int) {
        // Start from zeros, not `UUID()`: that reads /dev/urandom through a new file on Linux.
        var value = UUID.zeroBytes
        withUnsafeMutableBytes(of: &value) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + 16]))
        }
        self.uuid = UUID(uuid: value)
    }

    /// The 16 bytes in network order, as stored.
    public var bytes: [UInt8] {
        withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }

    /// Orders ids by their bytes, which for version 7 ids is the order they were made in.
    public static func < (lhs: EventID, rhs: EventID) -> Bool {
        lhs.orderKey < rhs.orderKey
    }

    /// The 16 bytes as two big-endian words: comparing keys compares the bytes, without allocating.
    package var orderKey: OrderKey {
        withUnsafeBytes(of: uuid.uuid) { raw in
            OrderKey(
                high: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
    }

    /// An id's bytes as two words, ordered like the bytes.
    package struct OrderKey: Comparable, Hashable, Sendable {
        package var high: UInt64
        package var low: UInt64

        package init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }

        package static func < (lhs: OrderKey, rhs: OrderKey) -> Bool {
            lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
        }
    }

    /// The canonical lower-case text form.
    public var description: String { uuid.uuidString.lowercased() }
}

/// Makes UUID version 7 values that increase strictly within this process, even within one millisecond.
///
/// The 62 random bits of each id come from the system's random source (`getrandom`), read 4 KiB at a time
/// under the generator's lock rather than with one system call per id: the command handler makes an id per
/// event, and a system call each was a visible part of an import.
final class UUIDv7Generator: Sendable {
    static let shared = UUIDv7Generator()

    /// Random words taken from the system's random source per refill (512 ids).
    static let poolSize = 512

    private struct Clock {
        var lastMilliseconds: UInt64 = 0
        var counter: UInt16 = 0
        /// Random words not used yet: `pool[used...]`.
        var pool: [UInt64] = []
        var used = 0

        /// The next unused random word, refilling the pool from the system's random source when it is spent.
        mutating func randomWord() -> UInt64 {
            if used == pool.count {
                if pool.isEmpty { pool = [UInt64](repeating: 0, count: UUIDv7Generator.poolSize) }
                let filled = pool.withUnsafeMutableBytes { UUIDv7Generator.fillFromSystem($0) }
                if !filled {
                    // No bulk source on this platform: the standard library's generator, word by word.
                    var random = SystemRandomNumberGenerator()
                    for index in pool.indices { pool[index] = random.next() }
                }
                used = 0
            }
            defer { used += 1 }
            return pool[used]
        }
    }

    private let clock = Mutex(Clock())

    /// Fills `buffer` from the system's random source with one call (glibc's `arc4random_buf` reads `getrandom`);
    /// whether it could.
    private static func fillFromSystem(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        #if canImport(Glibc)
        guard let base = buffer.baseAddress else { return true }
        arc4random_buf(base, buffer.count)
        return true
        #else
        return false
        #endif
    }

    func next() -> UUID {
        let now = UInt64(Timestamp.now.microsecondsSinceEpoch / 1000)
        let (milliseconds, counter, tail): (UInt64, UInt16, UInt64) = clock.withLock { state in
            if now > state.lastMilliseconds {
                state.lastMilliseconds = now
                state.counter = UInt16(truncatingIfNeeded: state.randomWord() & 0x3FF)
            } else if state.counter < 0xFFF {
                state.counter += 1
            } else {
                // 4096 ids in one millisecond: borrow the next millisecond rather than break the order.
                state.lastMilliseconds += 1
                state.counter = 0
            }
            return (state.lastMilliseconds, state.counter, state.randomWord())
        }
        var value = UUID.zeroBytes
        withUnsafeMutableBytes(of: &value) { bytes in
            for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
            bytes[6] = 0x70 | UInt8(truncatingIfNeeded: counter >> 8)
            bytes[7] = UInt8(truncatingIfNeeded: counter)
            for index in 8..<16 { bytes[index] = UInt8(truncatingIfNeeded: tail >> (8 * (15 - index))) }
            bytes[8] = 0x80 | (bytes[8] & 0x3F)
        }
        return UUID(uuid: value)
    }
}

extension UUID {
    /// Sixteen zero bytes, in the shape of `UUID.uuid`.
    fileprivate static let zeroBytes = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).uuid
}
