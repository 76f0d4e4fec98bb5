import CumulusDomain
import CumulusLog
import Foundation
import Testing

/// Ids derived from import lines (issue 14, item 9): the same line gives the same ids, so an input imported
/// again after a failure is recognised instead of stored twice.
@Suite struct DerivedIDTests {
    static let removeUser =
        "{\"command\":\"removeUser\",\"actor\":\"systemAdmin\",\"occurredAt\":\"2026-11-20T08:01:00Z\","
        + "\"user\":\"2b7e9c1a-4d3f-4e2a-9b8c-7d6e5f4a3b2c\"}"

    @Test func theFormulaIsTheDocumentedOne() {
        // Computed independently with Python's hashlib (docs/hardening.md gives the recipe).
        let time = Timestamp(iso8601: "2026-11-20T08:01:00Z")
        let first = LineDerivedID.uuid(
            line: Array(Self.removeUser.utf8), occurrence: 1, label: "eventId", occurredAt: time)
        #expect(first.uuidString.lowercased() == "01a1f7f9-1a60-8f5f-9a19-106bf0bece6b")
        let second = LineDerivedID.uuid(
            line: Array(Self.removeUser.utf8), occurrence: 2, label: "eventId", occurredAt: time)
        #expect(second.uuidString.lowercased() == "01a1f7f9-1a60-8837-81a0-554726e90b13")
        let untimed = LineDerivedID.uuid(
            line: Array("{\"stream\":\"a\",\"type\":\"T\",\"actor\":\"x\"}".utf8), occurrence: 1, label: "event 0",
            occurredAt: nil)
        #expect(untimed.uuidString.lowercased() == "0a3d738e-a3f4-8d78-81b8-941cdffac2e7")
    }

    @Test func theSameLineGivesTheSameIdsAndARepeatWithinOneInputOthers() throws {
        let createUser =
            "{\"command\":\"createUser\",\"actor\":\"systemAdmin\",\"occurredAt\":\"2026-11-20T08:01:00Z\","
            + "\"tenant\":\"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11\",\"upn\":\"a@b.ch\",\"displayName\":\"A\"}"
        let once = try CommandImport.parse(line: createUser, number: 1)
        let again = try CommandImport.parse(line: createUser, number: 7)
        #expect(once.eventID != nil && once.eventID == again.eventID)
        guard case .createUser(_, let user, _, _, _) = once.command,
            case .createUser(_, let sameUser, _, _, _) = again.command
        else {
            Issue.record("not a createUser")
            return
        }
        #expect(user == sameUser)
        let parsed = CommandImport.parse(lines: createUser + "\n" + createUser + "\n")
        let ids = parsed.compactMap { try? $0.result.get().eventID }
        #expect(ids.count == 2 && ids[0] == once.eventID && ids[1] != once.eventID)
        // The id's first 48 bits are occurredAt in milliseconds, so a time-ordered feed gives ordered ids.
        let prefix = try #require(once.eventID).uuidString.prefix(13)
        #expect(prefix == "01A1F7F9-1A60")
    }

    @Test func givenIdsAreKept() throws {
        let line =
            "{\"command\":\"removeUser\",\"actor\":\"systemAdmin\",\"occurredAt\":\"2026-11-20T08:01:00Z\","
            + "\"user\":\"2b7e9c1a-4d3f-4e2a-9b8c-7d6e5f4a3b2c\",\"eventId\":\"0f0e0d0c-0b0a-4909-8807-060504030201\"}"
        let request = try CommandImport.parse(line: line, number: 1)
        #expect(request.eventID == UUID(uuidString: "0f0e0d0c-0b0a-4909-8807-060504030201"))
    }
}
