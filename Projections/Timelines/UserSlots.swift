import CumulusDomain
import Foundation

/// Users' dense slots, found by a cheap hash of the id: the user-keyed projections look a user up for every feed
/// event, and `Dictionary<UserID, Int>` spends most of such a lookup seeding and finalising `Hasher`.
///
/// Open addressing with linear probing over a power-of-two table kept at most half full; the id is stored as its
/// two 64-bit words. The hash multiplies the two words, each mixed with a key drawn at random for every table,
/// and folds the 128-bit product (as wyhash does): ids chosen to collide would have to know the keys. Slots are
/// only added or moved, never removed (a user created again keeps its slot).
struct UserSlots: Sendable {
    /// One bucket: the id's words and its slot (-1: empty).
    private struct Bucket: Sendable {
        var high: UInt64
        var low: UInt64
        var slot: Int
    }

    private var buckets: [Bucket]
    private var mask: Int
    /// How many users have a slot.
    private(set) var count = 0
    private let key0: UInt64
    private let key1: UInt64

    /// No users.
    init() {
        buckets = Array(repeating: Bucket(high: 0, low: 0, slot: -1), count: 16)
        mask = 15
        var generator = SystemRandomNumberGenerator()
        key0 = generator.next()
        key1 = generator.next()
    }

    /// The id's bytes as two 64-bit words (in memory order: only equality and the hash use them).
    private static func words(_ user: UserID) -> (UInt64, UInt64) {
        withUnsafeBytes(of: user.uuid.uuid) { bytes in
            (
                bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            )
        }
    }

    private func bucket(_ high: UInt64, _ low: UInt64) -> Int {
        let product = (high ^ key0).multipliedFullWidth(by: low ^ key1)
        return Int(truncatingIfNeeded: product.high ^ product.low) & mask
    }

    /// The slot of `user`, if it has one.
    subscript(user: UserID) -> Int? {
        let (high, low) = Self.words(user)
        return buckets.withUnsafeBufferPointer { buckets in
            var index = bucket(high, low)
            while true {
                let candidate = buckets[index]
                if candidate.slot < 0 { return nil }
                if candidate.high == high && candidate.low == low { return candidate.slot }
                index = (index &+ 1) & mask
            }
        }
    }

    /// Gives `user` the slot `slot` (replacing the one it had); slots are indices, never negative.
    mutating func set(_ user: UserID, slot: Int) {
        let (high, low) = Self.words(user)
        if insert(high, low, slot: slot) { grow() }
    }

    /// Places the words; whether a new user was added and the table must grow.
    private mutating func insert(_ high: UInt64, _ low: UInt64, slot: Int) -> Bool {
        var index = bucket(high, low)
        while buckets[index].slot >= 0 {
            if buckets[index].high == high && buckets[index].low == low {
                buckets[index].slot = slot
                return false
            }
            index = (index &+ 1) & mask
        }
        buckets[index] = Bucket(high: high, low: low, slot: slot)
        count += 1
        return count * 2 > buckets.count
    }

    private mutating func grow() {
        let old = buckets
        buckets = Array(repeating: Bucket(high: 0, low: 0, slot: -1), count: old.count * 2)
        mask = buckets.count - 1
        count = 0
        for entry in old where entry.slot >= 0 { _ = insert(entry.high, entry.low, slot: entry.slot) }
    }
}
