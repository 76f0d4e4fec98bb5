import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

@testable import CumulusProjections

/// The catch-up decodes each payload where it lies in the log (`scanInPlaceOnReaderThread`) instead of from a
/// copied `RecordedEvent.payload`: over every event kind, an old schema version and events the domain cannot
/// read, it must see exactly what the copying path sees.
@Suite("In-place decoding in the catch-up")
struct InPlaceDecodeTests {
    /// The sample log (51 event types), the schema-version-1 fixture, one event of each type the sample log lacks,
    /// and four events the domain cannot decode: a foreign type in a notes stream, an unknown type in a user
    /// stream, a presence whose payload is corrupt and one of a schema version no build wrote.
    func makeLog() async throws -> TemporaryEventLog {
        let log = try await SampleLog.stored()
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/log-schema-v1.jsonl")
        let lines = try String(contentsOf: fixture, encoding: .utf8).split(separator: "\n")
        for (index, line) in lines.enumerated() {
            _ = try await log.store.append(atomically: [
                EnvelopeJSON.append(fromLine: String(line), lineNumber: index + 1)
            ])
        }
        let (t, o, o2, u) = (TenantID(UUID()), OUID(UUID()), OUID(UUID()), UserID(UUID()))
        let missing: [DomainEvent] = [
            .timeZoneChanged(TimeZoneChanged(tenant: t, timeZone: "Europe/Zurich")),
            .roleAssigned(RoleAssigned(tenant: t, principal: UUID(), role: .ouAdministrator, ou: o)),
            .roleRevoked(RoleRevoked(tenant: t, principal: UUID(), role: .userSupervisor, ou: nil)),
            .userRenamed(UserRenamed(user: u, displayName: PersonalData("Anna Muster-Meier"))),
            .userPrincipalNameChanged(UserPrincipalNameChanged(user: u, upn: PersonalData("anna.m@contoso.com"))),
            .userMoved(UserMoved(user: u, from: o, to: o2)),
            .responsibilityProfileChanged(ResponsibilityProfileChanged(user: u, responsibilityProfile: "Support")),
            .userPrincipalNameReserved(
                UserPrincipalNameReserved(tenant: t, user: u, upn: PersonalData("anna.m@contoso.com"))),
            .userPrincipalNameReleased(UserPrincipalNameReleased(tenant: t, user: u)),
            .ouTreeChanged(OUTreeChanged(tenant: t, ou: o2, to: o)),
        ]
        for event in missing {
            _ = try await log.store.append(
                [
                    ProposedEvent(
                        type: event.typeName, schemaVersion: event.schemaVersion, actor: "systemAdmin",
                        payload: event.encodePayload())
                ],
                to: try StreamName("tenant-\(t)"))
        }
        let user = try StreamName("user-\(UUID())")
        _ = try await log.store.append(
            [ProposedEvent(type: "Foreign", actor: "importer", payload: [1, 2, 3])], to: try StreamName("notes-1"))
        _ = try await log.store.append([ProposedEvent(type: "NoSuchEvent", actor: "feed", payload: [])], to: user)
        _ = try await log.store.append(
            [ProposedEvent(type: "PresenceChanged", actor: "feed", payload: [0xFF])], to: user)
        _ = try await log.store.append(
            [ProposedEvent(type: "PresenceChanged", schemaVersion: 99, actor: "feed", payload: [])], to: user)
        return log
    }

    @Test func everyEventDecodesInPlaceAsFromItsCopiedPayload() async throws {
        let log = try await makeLog()
        let stored = try await log.store.readAll(after: .start, maximumCount: 10_000)
        #expect(Set(DomainEvent.typeNames).isSubset(of: stored.map(\.type)))
        var scanned: [(RecordedEvent, [UInt8])] = []
        var scratch: [UInt8] = []
        var decodedInPlace: [Result<DecodedEvent, ProjectionStateError>] = []
        let last = try await log.store.scanInPlaceOnReaderThread(after: .start, maximumCount: 10_000) {
            (event, payload) throws(EventStoreError) in
            scanned.append((event, Array(payload)))
            do throws(ProjectionStateError) {
                decodedInPlace.append(.success(try DecodedEvent(decoding: event, payload: payload, scratch: &scratch)))
            } catch {
                decodedInPlace.append(.failure(error))
            }
        }
        #expect(last == stored.last?.position)
        #expect(scanned.count == stored.count)
        var failures = 0
        for (index, event) in stored.enumerated() where index < scanned.count {
            let (envelope, payload) = scanned[index]
            // The envelope is the event without its payload, and the bytes are its payload.
            #expect(envelope.payload.isEmpty)
            var whole = envelope
            whole.payload = payload
            #expect(whole == event)
            let copied = Result { () throws(ProjectionStateError) in try DecodedEvent(decoding: event) }
            switch (copied, decodedInPlace[index]) {
            case (.success(let lhs), .success(let rhs)):
                #expect(lhs.decoded == rhs.decoded && lhs.feed == rhs.feed, "position \(event.position)")
            case (.failure(let lhs), .failure(let rhs)):
                #expect(lhs == rhs)
                failures += 1
            default:
                Issue.record("position \(event.position): \(copied) copied, \(decodedInPlace[index]) in place")
            }
        }
        #expect(failures == 4)
    }

    /// The catch-up (in place) folds the log into the states and skipped events that
    /// `ProjectionSet.apply(contentsOf:)` gets from the copied events. (Pipelined, the same is checked by
    /// `CatchUpTests.aCatchUpOverSeveralLanesGivesWhatOneThreadGives`, over a longer log.)
    @Test func theCatchUpFoldsWhatTheCopiedEventsFold() async throws {
        let log = try await makeLog()
        var copied = ProjectionSet.standard()
        copied.lanes = 1
        copied.apply(contentsOf: try await log.store.readAll(after: .start, maximumCount: 10_000))
        #expect(copied.skipped.unreadable == 3 && copied.skipped.foreign == 1)
        // Over the LMDB log (in place), and over a store that does not scan (read in batches, each event's own
        // payload handed as its bytes). Read transactions of 200 events: several scans, each with a decoder of its own.
        for store in [log.store, Unscanned(base: log.store)] as [any EventStore] {
            var caughtUp = ProjectionSet.standard()
            caughtUp.lanes = 1
            let report = try await ProjectionCatchUp.run(&caughtUp, from: store, batchSize: 200)
            #expect(report.skipped == copied.skipped)
            #expect(caughtUp.positions == copied.positions)
            for (lhs, rhs) in zip(caughtUp.projections, copied.projections) {
                let identical = lhs.encodeState() == rhs.encodeState()
                #expect(identical, "\(lhs.name) from \(type(of: store))")
            }
        }
    }
}

/// The log without `EventScanning`: a catch-up over it reads `readAll` batches.
private struct Unscanned: WrappingStore {
    let base: any EventStore

    func append(units: [[StreamAppend]]) async throws(EventStoreError) -> [Result<[AppendResult], EventStoreError>] {
        try await base.append(units: units)
    }
}
