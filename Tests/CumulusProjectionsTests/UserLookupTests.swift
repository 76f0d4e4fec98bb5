import CumulusDomain
import CumulusLog
import Foundation
import Testing

@testable import CumulusProjections

/// The projections' own user lookups: `UserSlots`, the current state's cached places in its users, the name cache.
@Suite struct UserLookupTests {
    /// Thousands of users (the table grows many times), ids that differ in one byte only, replaced slots, and ids
    /// never given a slot.
    @Test func userSlotsFindEverySlotAcrossGrowth() {
        var slots = UserSlots()
        var expected: [UserID: Int] = [:]
        for number in 0..<5_000 {
            let user = UserID(id(number))
            slots.set(user, slot: number)
            expected[user] = number
        }
        // Ids differing only in their first byte.
        for byte in 1...255 {
            var bytes = UUID().uuid
            bytes.0 = UInt8(byte)
            bytes.15 = 7
            let user = UserID(UUID(uuid: bytes))
            slots.set(user, slot: 10_000 + byte)
            expected[user] = 10_000 + byte
        }
        for number in stride(from: 0, to: 5_000, by: 7) {
            slots.set(UserID(id(number)), slot: 20_000 + number)
            expected[UserID(id(number))] = 20_000 + number
        }
        #expect(slots.count == expected.count)
        for (user, slot) in expected { #expect(slots[user] == slot) }
        for number in 5_000..<6_000 { #expect(slots[UserID(id(number))] == nil) }
    }

    /// The current state's batch path caches each user's index in its users; users created, renamed, moved and
    /// removed between feed facts (the users' dictionary gains keys and grows, values are replaced) must not leave
    /// a stale index behind: batches cut anywhere give what one event at a time gives.
    @Test(arguments: [1, 3, 17, 64, 256])
    func currentStateBatchesMatchSingleEventsWhileUsersChange(batchSize: Int) throws {
        var log = LogBuilder()
        log.append(World.creation(), at: minute(0))
        let users = (0..<300).map { UserID(id(1_000 + $0)) }
        var time = 1.0
        for (index, user) in users.enumerated() {
            log.append(World.user(user, "User \(index)", upn: "user\(index)@contoso.com"), at: minute(time))
            // Feed facts for a fifth of the users created so far.
            for (other, earlier) in users[...index].enumerated() where other % 5 == index % 5 {
                let availability: Availability = (index + other) % 3 == 0 ? .busy : .available
                log.append(World.presence(earlier, availability, .available), at: minute(time + 0.1))
                log.append(World.state(earlier, index % 2 == 0 ? "Break" : "ACW", profile: "Sales"), at: minute(time))
                if other % 7 == 0 {
                    // Late: older than the facts shown, so the batch path must refuse it as one event does.
                    log.append(World.presence(earlier, .doNotDisturb, .doNotDisturb), at: minute(time - 2))
                }
            }
            if index % 10 == 9 {
                log.append(
                    .userRenamed(UserRenamed(user: users[index - 3], displayName: PersonalData("Renamed \(index)"))),
                    at: minute(time + 0.2))
                log.append(
                    .userMoved(UserMoved(user: users[index - 4], from: World.sales, to: World.root)),
                    at: minute(time + 0.2))
            }
            if index % 50 == 49 {
                log.append(.userRemoved(UserRemoved(user: users[index - 1])), at: minute(time + 0.3))
                log.append(World.presence(users[index - 1], .away, .away), at: minute(time + 0.4))
            }
            time += 1
        }
        var single = CurrentStateProjection()
        for event in log.events { single.apply(event, decoded: try DecodedEvent(decoding: event).decoded) }
        var batched = CurrentStateProjection()
        let decoded = try log.events.map { try DecodedEvent(decoding: $0) }
        var start = 0
        while start < decoded.count {
            let end = min(decoded.count, start + batchSize)
            batched.apply(batch: decoded[start..<end])
            start = end
        }
        #expect(batched.users == single.users)
        #expect(batched.encodeState() == single.encodeState())
        #expect(batched.users[users[0]]?.availability != nil)
    }

    /// Names found through the cache of recent names get the codes the dictionary gave them, whatever the order
    /// and however many names share a place in the cache.
    @Test func nameCodesAreStableThroughTheRecentCache() {
        var table = NameTable()
        let names = (0..<500).map { "Name \($0 % 37) \(String(repeating: "x", count: $0 % 23))" }
        var first: [String: UInt32] = [:]
        for name in names {
            let code = table.code(for: name)
            if let known = first[name] { #expect(code == known) } else { first[name] = code }
            #expect(table.name(code) == name)
        }
        for name in names.reversed() { #expect(table.code(for: name) == first[name]) }
        #expect(Set(first.values).count == first.count)
    }
}
