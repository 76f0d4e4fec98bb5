import CumulusLog
import Foundation

/// One generated event: its index in the workload, the stream it goes to, and the event itself.
struct GeneratedEvent: Sendable {
    let index: Int
    let streamIndex: Int
    let proposed: ProposedEvent
}

/// Presence events for the benchmarks: about 200 bytes of payload each, over `streams` user streams.
///
/// Every event is a pure function of its index and the seed (its stream, payload and even its UUIDv7-shaped
/// id), so each worker process regenerates exactly the events the others store, batch by batch, without
/// holding the whole workload in memory.
struct PresenceWorkload: Sendable {
    let seed: UInt64
    let streams: [StreamName]
    /// The UTF-8 bytes of each stream name.
    let streamKeys: [[UInt8]]
    /// Each stream's rank in name order: the order Cumulus writes the heads of a transaction in.
    let streamRanks: [Int]

    private static let availabilities = [
        "Available", "Busy", "Away", "BeRightBack", "DoNotDisturb", "Offline", "AvailableIdle",
    ]
    private static let activities = [
        "Available", "InACall", "InAMeeting", "Presenting", "Away", "OffWork", "OutOfOffice",
    ]
    private static let start = Timestamp(microsecondsSinceEpoch: 1_795_000_000_000_000)

    init(streams streamCount: Int, seed: UInt64 = 42) throws {
        self.seed = seed
        var names: [StreamName] = []
        names.reserveCapacity(streamCount)
        for index in 0..<streamCount {
            var generator = SplitMix64(seed: UInt64(index) ^ seed)
            let uuid = UUID(uuid: Self.uuid(high: generator.next(), low: generator.next()))
            names.append(try StreamName("user-\(uuid.uuidString.lowercased())"))
        }
        streams = names
        streamKeys = names.map { Array($0.rawValue.utf8) }
        var ranks = [Int](repeating: 0, count: streamCount)
        for (rank, index) in names.indices.sorted(by: { names[$0] < names[$1] }).enumerated() {
            ranks[index] = rank
        }
        streamRanks = ranks
    }

    /// The event at `index`.
    func event(at index: Int) -> GeneratedEvent {
        var generator = SplitMix64(seed: seed &+ UInt64(index) &* 0xD1B5_4A32_D192_ED03)
        let user = Int(generator.next() % UInt64(streams.count))
        let availability = Self.availabilities[Int(generator.next() % UInt64(Self.availabilities.count))]
        let activity = Self.activities[Int(generator.next() % UInt64(Self.activities.count))]
        let payload =
            "{\"tenant\":\"7d3f2a10-5b1c-4e8f-9a2d-3c4b5a6f7e8d\",\"availability\":\"\(availability)\","
            + "\"activity\":\"\(activity)\",\"source\":\"graph-subscription\",\"sequence\":\(index),"
            + "\"device\":\"desktop\",\"confidence\":100}"
        // A UUIDv7 layout: 48 bits of milliseconds (one per event, so ids increase with the index), version 7,
        // then random bits; time-ordered as the ids Cumulus generates itself.
        let milliseconds = UInt64(1_795_000_000_000) + UInt64(index)
        let random = generator.next()
        let high = (milliseconds << 16) | 0x7000
        let low = (random & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return GeneratedEvent(
            index: index,
            streamIndex: user,
            proposed: ProposedEvent(
                id: EventID(UUID(uuid: Self.uuid(high: high, low: low))),
                type: "PresenceChanged",
                occurredAt: Self.start.adding(seconds: Double(index) * 0.05),
                actor: "presenceFeed:7d3f2a10",
                payload: Array(payload.utf8)
            )
        )
    }

    /// The events of `range`, in index order.
    func events(_ range: Range<Int>) -> [GeneratedEvent] {
        range.map(event(at:))
    }

    /// The events of `range` grouped by stream (streams in order of first appearance, each stream's events in
    /// index order): the shape of a bulk import, one `StreamAppend` per stream. Every contender stores this order.
    func importBatch(_ range: Range<Int>) -> [GeneratedEvent] {
        let events = events(range)
        var order: [Int] = []
        var groups: [Int: [GeneratedEvent]] = [:]
        for event in events {
            if groups[event.streamIndex] == nil { order.append(event.streamIndex) }
            groups[event.streamIndex, default: []].append(event)
        }
        return order.flatMap { groups[$0] ?? [] }
    }

    /// Big-endian bytes of two words as a `uuid_t`.
    private static func uuid(high: UInt64, low: UInt64) -> uuid_t {
        withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { $0.loadUnaligned(as: uuid_t.self) }
    }
}

/// What a contender read back: how many events, and an order-independent checksum of their stream names and
/// payloads (a wrapping sum of FNV-1a hashes), so stores that ordered concurrent appends differently still agree.
struct Tally: Codable, Equatable, Sendable {
    /// Events read back.
    var count = 0
    /// The checksum, in hexadecimal (JSON numbers cannot hold 64 bits exactly).
    var checksum: String { String(sum, radix: 16) }
    private var sum: UInt64 = 0

    enum CodingKeys: String, CodingKey {
        case count
        case checksum
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        count = try container.decode(Int.self, forKey: .count)
        let text = try container.decode(String.self, forKey: .checksum)
        guard let value = UInt64(text, radix: 16) else {
            throw BenchError("checksum '\(text)' is not hexadecimal")
        }
        sum = value
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(count, forKey: .count)
        try container.encode(checksum, forKey: .checksum)
    }

    /// Adds one event.
    mutating func add(stream: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in stream { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        hash = (hash ^ 0xFF) &* 0x100_0000_01B3
        for byte in payload { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        sum &+= hash
        count += 1
    }

    /// Adds one event held in Swift values.
    mutating func add(stream: [UInt8], payload: [UInt8]) {
        stream.withUnsafeBytes { streamBytes in
            payload.withUnsafeBytes { payloadBytes in add(stream: streamBytes, payload: payloadBytes) }
        }
    }
}
