import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// Issue 14 through the `cumulus` binary: raw appends into the domain, unreadable events, invalid UTF-8,
/// control characters and reused event ids.
@Suite("cumulus hardening")
struct HardeningCLITests {
    let scratch = TemporaryDirectory(prefix: "cumulus-hardening")
    var directory: String { scratch.path }
    static let tenant = "6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11"
    static let user = "2b7e9c1a-4d3f-4e2a-9b8c-7d6e5f4a3b2c"
    static let tourLine =
        #"{"stream":"user-1","type":"PresenceChanged","actor":"presenceFeed:t1","expectedVersion":"noStream","payload":{"availability":"Busy"}}"#

    func cumulus(
        _ arguments: [String], input: Data? = nil
    ) async throws -> (status: Int32, output: String, error: String) {
        try await ChildProcess.run("cumulus", arguments + ["--data-dir", directory], input: input)
    }

    func cumulus(_ arguments: [String], text: String) async throws -> (status: Int32, output: String, error: String) {
        try await cumulus(arguments, input: Data(text.utf8))
    }

    /// The README world: the import examples up to the licence release and deletions at their end.
    static func readmeWorld() throws -> String {
        let lines = try ImportTests.examples().split(separator: "\n")
        let end = try #require(lines.firstIndex { $0.contains(#""command":"releaseUserLicence""#) })
        return lines[..<end].joined(separator: "\n") + "\n"
    }

    @Test func theTourLineIsRefusedByAppendAndAForeignEventIsNot() async throws {
        _ = try await cumulus(["init"])
        let refused = try await cumulus(["append"], text: Self.tourLine)
        #expect(refused.status == 1)
        #expect(
            refused.error.contains(
                "line 1: the domain could not read this event: its payload is not a PresenceChanged v1 payload"))
        #expect(refused.error.contains("nothing was appended"))
        // A domain type in a foreign stream, and a foreign type in a domain stream: refused the same way.
        let elsewhere = try await cumulus(
            ["append"],
            text: #"{"stream":"notes-1","type":"UserRemoved","actor":"a","payloadBase64":""}"# + "\n"
                + #"{"stream":"tenant-1","type":"Noted","actor":"a"}"#)
        #expect(elsewhere.status == 1)
        #expect(elsewhere.error.contains("line 1: the domain could not read this event"))
        #expect(
            elsewhere.error.contains("line 2: the domain could not read this event: `Noted` is not a domain event type")
        )
        #expect(try await cumulus(["read"]).output.isEmpty)
        let foreign = try await cumulus(
            ["append"],
            text:
                #"{"stream":"notes-1","type":"Noted","actor":"systemAdmin","expectedVersion":"noStream","payload":{"text":"hello"}}"#
        )
        #expect(foreign.status == 0 && foreign.output.contains("events appended: 1"), "\(foreign.error)")
        // The domain works on with the foreign event in the log.
        let imported = try await cumulus(["import"], text: try Self.readmeWorld())
        #expect(imported.status == 0 && imported.output.contains("refused: 0"), "\(imported.error)")
        let stats = try await cumulus(["stats", "--json"])
        #expect(stats.output.contains(#""foreignEvents":1,"unreadableEvents":0"#), "\(stats.output)")
    }

    @Test func anUnreadableEventInTheLogIsSkippedCountedAndListedNeverADeadLog() async throws {
        _ = try await cumulus(["init"])
        // A log written before the admission rule: the README's tour line, stored as it was then.
        let store = try LMDBEventStore.open(directory: directory)
        _ = try await store.append(
            [
                ProposedEvent(
                    type: "PresenceChanged", actor: "presenceFeed:t1", payload: Array(#"{"availability":"Busy"}"#.utf8))
            ],
            to: StreamName("user-1"), expecting: .noStream)
        store.close()
        let imported = try await cumulus(["import"], text: try Self.readmeWorld())
        #expect(imported.status == 0 && imported.output.contains("refused: 0"), "\(imported.error)")
        let supervisor = "userSupervisor:\(Self.tenant)"
        for arguments in [
            ["report", "user-states", "--tenant", Self.tenant, "--actor", supervisor],
            ["report", "time-in-state", "--tenant", Self.tenant, "--actor", supervisor],
            ["report", "licences", "--tenant", Self.tenant],
            ["state", "user", Self.user], ["state", "tenant", Self.tenant],
            ["audit", "user", Self.user], ["audit", "tenant", Self.tenant, "--format", "json"],
            ["rebuild", "--all"],
        ] {
            let result = try await cumulus(arguments)
            #expect(result.status == 0, "\(arguments): \(result.error)")
            #expect(!result.error.contains("cannot be read") && !result.error.contains("cannot be decoded"))
        }
        let rebuilt = try await cumulus(["rebuild", "--all"])
        #expect(rebuilt.error.contains("note: 1 unreadable event(s) skipped (position 1)"), "\(rebuilt.error)")
        let state = try await cumulus(["state", "user", Self.user])
        #expect(state.output.contains("\"Busy\""))  // the user's own presence, from the import
        let verified = try await cumulus(["verify"])
        #expect(verified.status == 0)
        #expect(verified.output.contains("unreadable by the domain (skipped by every view): 1"))
        #expect(verified.output.contains("unreadable: position 1, stream user-1, type PresenceChanged"))
        let stats = try await cumulus(["stats", "--json"])
        #expect(stats.output.contains(#""unreadableEvents":1,"unreadable":[{"position":1,"stream":"user-1""#))
        // Commands keep working on the stream the unreadable event sits in, too: its version counts.
        // The same world again: every line is recognised as stored (ids derived from the lines), not a dead log.
        let more = try await cumulus(["import"], text: try Self.readmeWorld())
        #expect(more.status == 0 && more.output.contains("refused: 0"), "\(more.output) \(more.error)")
        #expect(!more.output.contains("duplicates: 0"), "\(more.output)")
    }

    @Test func invalidUTF8InImportAndAppendIsRefusedWithLineAndOffset() async throws {
        _ = try await cumulus(["init"])
        let world = try Self.readmeWorld()
        let createTenant = world.split(separator: "\n")[0]
        var input = Data((createTenant + "\n").utf8)
        let rename =
            #"{"command":"renameTenant","actor":"systemAdmin","occurredAt":"2026-11-20T08:02:00Z","tenant":"\#(Self.tenant)","name":"bad"#
        input.append(Data(rename.utf8) + Data([0xFF, 0xFE]) + Data("\"}\n".utf8))
        input.append(Data(rename.utf8) + Data([0xFE, 0xFF]) + Data("\"}\n".utf8))
        let imported = try await cumulus(["import"], input: input)
        #expect(imported.status == 1)
        let offset = rename.utf8.count
        #expect(imported.error.contains("line 2: invalid UTF-8 at byte offset \(offset) of the line"))
        #expect(imported.error.contains("line 3: invalid UTF-8 at byte offset \(offset) of the line"))
        #expect(imported.output.contains("accepted: 1 "))
        var raw = Data(#"{"stream":"notes-"#.utf8) + Data([0xFF, 0xFE]) + Data(#"","type":"T","actor":"a"}"#.utf8)
        raw.append(Data("\n".utf8) + Data(#"{"stream":"n","type":"T","actor":"sys"#.utf8) + Data([0xC0, 0x80]))
        raw.append(Data(#""}"#.utf8) + Data("\n".utf8))
        raw.append(
            Data(#"{"stream":"n","type":"T","actor":"a","payloadText":"x"#.utf8) + Data([0xFE]) + Data(#""}"#.utf8))
        let appended = try await cumulus(["append"], input: raw)
        #expect(appended.status == 1)
        #expect(appended.error.contains("line 1: invalid UTF-8 at byte offset 17 of the line"))
        #expect(appended.error.contains("line 2: invalid UTF-8 at byte offset 37 of the line"))
        #expect(appended.error.contains("line 3: invalid UTF-8 at byte offset 53 of the line"))
        #expect(!(try await cumulus(["read"]).output.contains("\u{FFFD}")))
    }

    @Test func namesWithControlCharactersAreRefusedAndEchoedInputIsEscaped() async throws {
        _ = try await cumulus(["init"])
        let createTenant = String(try Self.readmeWorld().split(separator: "\n")[0])
        let rename: String =
            #"{"command":"renameTenant","actor":"systemAdmin","occurredAt":"2026-11-20T08:02:00Z","tenant":"\#(Self.tenant)","name":"Evil\u001b]0;owned\u0007"}"#
        let unknown: String = #"{"command":"x\u001b[2J","actor":"systemAdmin","occurredAt":"2026-11-20T08:02:00Z"}"#
        let input = [createTenant, rename, unknown].joined(separator: "\n")
        let result = try await cumulus(["import"], text: input)
        #expect(result.status == 1)
        #expect(result.error.contains("line 2: invalid name: must be no control characters"))
        #expect(result.error.contains("line 3: unknown command `x\\u{1b}[2J`"))
        #expect(!result.error.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
    }

    @Test func aReusedEventIdIsCheckedForPermissionAndContent() async throws {
        _ = try await cumulus(["init"])
        _ = try await cumulus(["import"], text: try Self.readmeWorld())
        let id = "0f0e0d0c-0b0a-4909-8807-060504030201"  // the README's changeUserState line
        func change(_ actor: String, _ state: String) -> String {
            #"{"command":"changeUserState","actor":"\#(actor)","occurredAt":"2026-11-20T08:40:00Z","user":"\#(Self.user)","state":"\#(state)","responsibilityProfile":"Sales","eventId":"\#(id)"}"#
        }
        let guest = try await cumulus(["import"], text: change("guest", "Available"))
        #expect(guest.status == 1 && guest.error.contains("line 1: permission denied: guest"), "\(guest.error)")
        #expect(guest.output.contains("duplicates: 0"))
        let other = try await cumulus(["import"], text: change("user:\(Self.user)", "Available"))
        #expect(other.status == 1)
        #expect(other.error.contains("line 1: event id \(id) is stored already at position"), "\(other.error)")
        let same = try await cumulus(["import"], text: change("user:\(Self.user)", "Break"))
        #expect(same.status == 0 && same.output.contains("duplicates: 1"), "\(same.output) \(same.error)")
    }
}
