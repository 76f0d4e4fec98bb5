import CumulusLog
import Foundation

/// Presence events for the benchmarks: `count` events over `streams` user streams, about 200 bytes of
/// payload each, generated from a fixed seed so every contender stores exactly the same events.
struct PresenceWorkload {
    struct Event {
        let streamIndex: Int
        let proposed: ProposedEvent
    }

    let streams: [StreamName]
    let events: [Event]

    init(count: Int, streams streamCount: Int, seed: UInt64 = 42) {
        var generator = SplitMix(seed: seed)
        let availabilities = ["Available", "Busy", "Away", "BeRightBack", "DoNotDisturb", "Offline", "AvailableIdle"]
        let activities = ["Available", "InACall", "InAMeeting", "Presenting", "Away", "OffWork", "OutOfOffice"]
        streams = (0..<streamCount).map { index in
            (try? StreamName("user-\(UUID(uuid: Self.uuidBytes(UInt64(index), seed: seed)).uuidString.lowercased())"))
                ?? (try? StreamName("user-\(index)"))!
        }
        let start = Timestamp(microsecondsSinceEpoch: 1_795_000_000_000_000)
        var events: [Event] = []
        events.reserveCapacity(count)
        for index in 0..<count {
            let user = Int(generator.next() % UInt64(streamCount))
            let availability = availabilities[Int(generator.next() % UInt64(availabilities.count))]
            let activity = activities[Int(generator.next() % UInt64(activities.count))]
            let payload =
                "{\"tenant\":\"7d3f2a10-5b1c-4e8f-9a2d-3c4b5a6f7e8d\",\"availability\":\"\(availability)\","
                + "\"activity\":\"\(activity)\",\"source\":\"graph-subscription\",\"sequence\":\(index),"
                + "\"device\":\"desktop\",\"confidence\":100}"
            events.append(
                Event(
                    streamIndex: user,
                    proposed: ProposedEvent(
                        type: "PresenceChanged",
                        occurredAt: start.adding(seconds: Double(index) * 0.05),
                        actor: "presenceFeed:7d3f2a10",
                        payload: Array(payload.utf8)
                    )
                )
            )
        }
        self.events = events
    }

    private static func uuidBytes(_ value: UInt64, seed: UInt64) -> uuid_t {
        var generator = SplitMix(seed: value ^ seed)
        let high = generator.next()
        let low = generator.next()
        return withUnsafeBytes(of: (high, low)) { raw in
            raw.load(as: uuid_t.self)
        }
    }
}

/// SplitMix64: small, fast, deterministic.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
