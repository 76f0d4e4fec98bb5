import CumulusLog
import CumulusPostgres
import CumulusTesting
import Foundation
import Testing

/// What the conformance suite cannot see: tampering with rows, wake-ups from another connection, and the
/// refusals when the server, the login or the schema is wrong.
@Suite("PostgreSQL store", .enabled(if: TestServer.enabled, TestServer.skipReason))
struct StoreTests {
    /// A log of 40 events over 5 streams, one with correlation and causation ids, and a checkpoint.
    func filledStore() async throws -> PostgresEventStore {
        let store = try await TestServer.freshStore("tamper")
        for batch in 0..<10 {
            var events = SampleEvents.make(4, label: "b\(batch)")
            events[0].correlationID = UUID()
            events[1].causationID = UUID()
            _ = try await store.append(events, to: StreamName("user-\(batch % 5)"))
        }
        try await store.save(Checkpoint(name: "current-state", position: GlobalPosition(40), state: [1, 2, 3]))
        return store
    }

    func expectDamage(at position: UInt64?, of store: PostgresEventStore) async {
        do {
            let report = try await store.verify()
            Issue.record("verify accepted a damaged log: \(report)")
        } catch .integrityViolation(let reported, let reason) {
            #expect(
                reported == position.map { GlobalPosition($0) },
                "verify named \(String(describing: reported)): \(reason)"
            )
        } catch {
            Issue.record("verify failed otherwise: \(error)")
        }
    }

    @Test func verifyNamesTheRowAlteredWithPsql() async throws {
        let store = try await filledStore()
        defer { store.close() }
        let sound = try await store.verify()
        #expect(sound.eventCount == 40 && sound.streamCount == 5 && sound.checkpointCount == 1)
        let events = "\"\(store.location.schema)\".events"
        try TestServer.psql("UPDATE \(events) SET payload = '\\x6f74686572' WHERE position = 17")
        await expectDamage(at: 17, of: store)
    }

    @Test(arguments: [
        ("recorded_at = recorded_at + 1", UInt64(9)),
        ("actor = 'someone else'", UInt64(23)),
        ("correlation_id = NULL", UInt64(29)),
        ("stream = 'user-9'", UInt64(3)),
    ])
    func verifyNamesEachAlteredColumn(change: String, position: UInt64) async throws {
        let store = try await filledStore()
        defer { store.close() }
        let events = "\"\(store.location.schema)\".events"
        try TestServer.psql("UPDATE \(events) SET \(change) WHERE position = \(position)")
        await expectDamage(at: position, of: store)
    }

    @Test func verifyNamesADeletedRowAndAnAlteredCheckpoint() async throws {
        let store = try await filledStore()
        defer { store.close() }
        let schema = "\"\(store.location.schema)\""
        try TestServer.psql("UPDATE \(schema).checkpoints SET position = 41")
        await expectDamage(at: nil, of: store)
        try TestServer.psql("UPDATE \(schema).checkpoints SET position = 40")
        _ = try await store.verify()
        try TestServer.psql("DELETE FROM \(schema).events WHERE position = 12")
        await expectDamage(at: 12, of: store)
    }

    @Test func aWaitIsWokenByAnotherConnectionsAppend() async throws {
        let writer = try await TestServer.freshStore("wake")
        defer { writer.close() }
        // A second store on the same log: its own connections, its own notifier; only NOTIFY can wake it.
        let follower = try await PostgresEventStore.open(writer.location)
        defer { follower.close() }
        let woke = Task { () async throws -> GlobalPosition in
            try await follower.waitForEvents(after: .start)
            return try await follower.lastPosition()
        }
        try await Task.sleep(for: .milliseconds(300))
        _ = try await writer.append(SampleEvents.make(2), to: StreamName("user-1"))
        let position = try await woke.value
        #expect(position == GlobalPosition(2))
    }

    @Test func sameIDOtherContentIsRefusedAcrossStores() async throws {
        let first = try await TestServer.freshStore("ids")
        defer { first.close() }
        let second = try await PostgresEventStore.open(first.location)
        defer { second.close() }
        let event = SampleEvents.make(1)[0]
        _ = try await first.append([event], to: StreamName("user-1"))
        let again = try await second.append([event], to: StreamName("user-1"))
        #expect(again.wasAlreadyStored && again.lastPosition == GlobalPosition(1))
        var other = event
        other.payload = Array("changed".utf8)
        await #expect(throws: EventStoreError.eventIDConflict(id: event.id, storedAt: GlobalPosition(1))) {
            _ = try await second.append([other], to: StreamName("user-1"))
        }
    }

    /// Each writer remembers the stream heads it committed while nobody else writes; another store's append in
    /// between (a new head position and link) must make it read them again, whatever it remembered.
    @Test func rememberedHeadsAreDroppedWhenAnotherStoreWrites() async throws {
        let first = try await TestServer.freshStore("heads")
        defer { first.close() }
        let second = try await PostgresEventStore.open(first.location)
        defer { second.close() }
        let stream = try StreamName("user-shared")
        _ = try await first.append(SampleEvents.make(2, label: "a"), to: stream, expecting: .noStream)
        _ = try await first.append(SampleEvents.make(1, label: "b"), to: stream, expecting: .exactly(StreamVersion(2)))
        // `first` now remembers version 3; `second` moves the stream to 4.
        let moved = try await second.append(
            SampleEvents.make(1, label: "c"), to: stream, expecting: .exactly(StreamVersion(3)))
        #expect(moved.streamVersion == StreamVersion(4))
        await #expect(
            throws: EventStoreError.wrongExpectedVersion(
                stream: stream, expected: .exactly(StreamVersion(3)), actual: StreamVersion(4))
        ) {
            _ = try await first.append(
                SampleEvents.make(1, label: "d"), to: stream, expecting: .exactly(StreamVersion(3)))
        }
        // A refused append leaves the memory right; `.any` appends after the other store's event.
        let next = try await first.append(SampleEvents.make(1, label: "e"), to: stream)
        #expect(next.streamVersion == StreamVersion(5) && next.lastPosition == GlobalPosition(5))
        _ = try await second.append(SampleEvents.make(1, label: "f"), to: stream, expecting: .exactly(StreamVersion(5)))
        let last = try await first.append(SampleEvents.make(1, label: "g"), to: stream)
        #expect(last.streamVersion == StreamVersion(7))
        let read = try await first.read(stream: stream)
        #expect(read.map(\.streamVersion.rawValue) == Array(1...7))
        #expect(zip(read.dropFirst(), read).allSatisfy { $0.position > $1.position })
        _ = try await first.verify()
    }

    /// A writer that made a log from empty knows every stream's head, and takes a stream it does not know for a
    /// new one; once another store has written, that no longer holds — a stream only the other store wrote must be
    /// looked up, not started again at version 1.
    @Test func aWriterThatKnewEveryStreamLooksUpAStreamAnotherStoreStarted() async throws {
        let first = try await TestServer.freshStore("complete")
        defer { first.close() }
        let mine = try StreamName("user-mine")
        let theirs = try StreamName("user-theirs")
        _ = try await first.append(SampleEvents.make(2, label: "a"), to: mine, expecting: .noStream)
        let second = try await PostgresEventStore.open(first.location)
        defer { second.close() }
        _ = try await second.append(SampleEvents.make(2, label: "b"), to: theirs, expecting: .noStream)
        // `first` must not take `theirs` for a new stream.
        await #expect(
            throws: EventStoreError.wrongExpectedVersion(
                stream: theirs, expected: .noStream, actual: StreamVersion(2))
        ) {
            _ = try await first.append(SampleEvents.make(1, label: "c"), to: theirs, expecting: .noStream)
        }
        let next = try await first.append(SampleEvents.make(1, label: "d"), to: theirs)
        #expect(next.streamVersion == StreamVersion(3))
        let fresh = try await first.append(SampleEvents.make(1, label: "e"), to: try StreamName("user-new"))
        #expect(fresh.streamVersion == StreamVersion(1))
        #expect(try await first.read(stream: theirs).map(\.streamVersion.rawValue) == [1, 2, 3])
        _ = try await first.verify()
    }

    /// Schema version 3 finds a stream's rows by a 64-bit hash of its name and compares the name too, because two
    /// streams may share a key. No collision can be found by search, so one is made by hand: the generated column's
    /// expression dropped, and another stream's rows (with more events) given this stream's key. Reads, versions and
    /// the writer's head lookup (a second store, which remembers no heads) must still see only this stream's rows.
    @Test func rowsOfAnotherStreamWithTheSameKeyAreSkipped() async throws {
        let store = try await TestServer.freshStore("collide")
        defer { store.close() }
        let (stream, other) = (try StreamName("user-b"), try StreamName("user-c"))
        _ = try await store.append(SampleEvents.make(2, label: "b"), to: stream)
        _ = try await store.append(SampleEvents.make(4, label: "c"), to: other)
        let events = "\"\(store.location.schema)\".events"
        try TestServer.psql(
            "ALTER TABLE \(events) ALTER COLUMN stream_key DROP EXPRESSION; "
                + "UPDATE \(events) SET stream_key = hashtextextended('user-b', 0) WHERE stream = 'user-c'")
        #expect(
            try TestServer.psql("SELECT count(DISTINCT stream_key)::text || '/' || count(*)::text FROM \(events)")
                == "1/6")
        let second = try await PostgresEventStore.open(store.location)
        defer { second.close() }
        #expect(try await second.version(of: stream) == StreamVersion(2))
        let read = try await second.read(stream: stream)
        #expect(read.map(\.streamVersion.rawValue) == [1, 2] && read.allSatisfy { $0.stream == stream })
        let next = try await second.append(
            SampleEvents.make(1, label: "b3"), to: stream, expecting: .exactly(StreamVersion(2)))
        #expect(next.streamVersion == StreamVersion(3) && next.lastPosition == GlobalPosition(7))
        _ = try await second.verify()
    }

    /// A group's rows go to the server in chunks of 256 KiB while the writer stages the next ones: appends of about
    /// eight chunks each, sent at once (so that the writer usually takes them as one group, though the test does not
    /// depend on it) with a refused one between them, must be stored whole, in order, with nothing of the refused
    /// one.
    @Test func appendsSpanningManyChunksAreStoredWholeBesideARefusedOne() async throws {
        let store = try await TestServer.freshStore("chunks")
        defer { store.close() }
        let payload = [UInt8](repeating: 0xA5, count: 600)  // about 1.3 kB a row in COPY's text
        func big(_ label: String) -> [ProposedEvent] {
            (0..<1_500).map { _ in ProposedEvent(type: "Big\(label)", actor: "test", payload: payload) }
        }
        let taken = try StreamName("user-taken")
        _ = try await store.append(SampleEvents.make(1), to: taken)
        // Three appends at once: the middle one expects a version the stream is not at.
        async let first = store.append(atomically: [
            StreamAppend(stream: StreamName("user-a"), expectedVersion: .any, events: big("a"))
        ])
        async let refused = store.append(
            atomically: [
                StreamAppend(stream: try StreamName("user-b"), expectedVersion: .any, events: big("b")),
                StreamAppend(stream: taken, expectedVersion: .noStream, events: SampleEvents.make(1)),
            ])
        async let third = store.append(atomically: [
            StreamAppend(stream: StreamName("user-c"), expectedVersion: .any, events: big("c"))
        ])
        let (a, c) = try await (first, third)
        do {
            _ = try await refused
            Issue.record("an append expecting no stream was stored on a stream that has one")
        } catch {
            let expected = EventStoreError.wrongExpectedVersion(
                stream: taken, expected: .noStream, actual: StreamVersion(1))
            #expect(error as? EventStoreError == expected, "\(error)")
        }
        #expect(a[0].streamVersion == StreamVersion(1_500) && c[0].streamVersion == StreamVersion(1_500))
        #expect(try await store.lastPosition() == GlobalPosition(3_001))
        #expect(try await store.read(stream: StreamName("user-b")).isEmpty)
        let all = try await store.readAll(after: .start, maximumCount: 10_000)
        #expect(all.map(\.position.rawValue) == Array(1...3_001))
        #expect(all.dropFirst().allSatisfy { $0.payload == payload })
        let report = try await store.verify()
        #expect(report.eventCount == 3_001 && report.streamCount == 3)
    }

    /// `appendCopied` checks every event of a batch before it stages any (staged rows may already be on their way
    /// to the server): a batch that breaks off in its middle stores nothing, and the log takes the right batch next.
    @Test func aCopiedBatchThatBreaksOffStoresNothing() async throws {
        let source = try await TestServer.freshStore("copysrc")
        defer { source.close() }
        for round in 0..<5 {
            _ = try await source.append(SampleEvents.make(2, label: "r\(round)"), to: StreamName("user-\(round % 2)"))
        }
        let events = try await source.readAll(after: .start, maximumCount: 100)
        let target = try await TestServer.freshStore("copydst")
        defer { target.close() }
        try await target.appendCopied(Array(events[0..<4]))
        var broken = Array(events[4..<10])
        broken[3] = events[9]  // position 8 then 10: the batch breaks off at its fourth event
        await #expect(throws: EventStoreError.self) { try await target.appendCopied(broken) }
        var repeated = Array(events[4..<10])
        repeated[5].id = events[4].id  // in place and in sequence, but with an id the batch has already
        await #expect(throws: EventStoreError.self) { try await target.appendCopied(repeated) }
        #expect(try await target.lastPosition() == GlobalPosition(4))
        try await target.appendCopied(Array(events[4..<10]))
        #expect(try await target.verify() == source.verify())
    }

    /// 64 appends of one event at once: the writer groups the waiting ones into one transaction, so later requests
    /// of a group must find the event an earlier request of the same group staged (not yet committed) — stored
    /// once, every caller told where, and the same id with other content refused. Also through `append(units:)`,
    /// whose units repeat the id inside one request.
    @Test func theSameEventAppendedConcurrentlyIsStoredOnce() async throws {
        let store = try await TestServer.freshStore("sameid")
        defer { store.close() }
        let event = SampleEvents.make(1, label: "once")[0]
        let other = ProposedEvent(
            id: event.id, type: event.type, actor: event.actor, payload: Array("other".utf8))
        let stream = try StreamName("user-once")
        let results = await withTaskGroup(of: Result<AppendResult, EventStoreError>.self) { group in
            for index in 0..<64 {
                group.addTask {
                    do throws(EventStoreError) {
                        return .success(try await store.append([index == 40 ? other : event], to: stream))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let stored = results.compactMap { try? $0.get() }
        let refused = results.filter { if case .failure(.eventIDConflict) = $0 { true } else { false } }
        // Whichever content came first is stored; every request with the other content is refused.
        #expect(stored.count + refused.count == 64, "\(results)")
        #expect(stored.count == 63 || stored.count == 1, "\(results)")
        #expect(stored.allSatisfy { $0.firstPosition == GlobalPosition(1) }, "\(stored)")
        #expect(stored.filter { !$0.wasAlreadyStored }.count == 1, "\(stored)")
        // Units of one request repeating a new event's id: the second finds what the first staged.
        let fresh = SampleEvents.make(1, label: "units")[0]
        let unit = [StreamAppend(stream: try StreamName("user-units"), expectedVersion: .any, events: [fresh])]
        let units = try await store.append(units: [unit, unit])
        let unitResults = units.compactMap { try? $0.get().first }
        #expect(unitResults.count == 2 && unitResults.allSatisfy { $0.firstPosition == GlobalPosition(2) }, "\(units)")
        #expect(unitResults.map(\.wasAlreadyStored) == [false, true], "\(units)")
        #expect(try await store.lastPosition() == GlobalPosition(2))
    }

    @Test func aNULInTheTypeIsRefusedWithNothingWritten() async throws {
        let store = try await TestServer.freshStore("nul")
        defer { store.close() }
        let event = ProposedEvent(type: "Bad\u{0}Type", actor: "a", payload: [])
        await #expect(throws: EventStoreError.self) { _ = try await store.append([event], to: StreamName("s")) }
        #expect(try await store.lastPosition() == .start)
    }

    /// Rows go to the server with `COPY` (in its binary format; before, in its text format): every character the
    /// text format gives a meaning to, in every text column, every byte value in the payload, and non-ASCII text
    /// must come back as written, with the chain intact.
    @Test func textAndBytesThatCopyEscapesComeBackUnchanged() async throws {
        let store = try await TestServer.freshStore("escapes")
        defer { store.close() }
        let awkward = "a\\b\tc\nd\re \\N \\x00 zürich ☎ \u{1}"
        var events = [
            ProposedEvent(type: "Type\t\\N", actor: awkward, payload: Array(0...255)),
            ProposedEvent(type: "T", actor: "\\", payload: []),
            ProposedEvent(type: "T", actor: "x", payload: Array("\\.\n\\x41".utf8)),
        ]
        events[0].correlationID = UUID()
        events[2].causationID = UUID()
        let stream = try StreamName("user-a\\b")
        _ = try await store.append(events, to: stream)
        let read = try await store.readAll(after: .start, maximumCount: 10)
        #expect(read.count == 3)
        for (stored, proposed) in zip(read, events) {
            #expect(stored.type == proposed.type && stored.actor == proposed.actor)
            #expect(stored.payload == proposed.payload)
            #expect(stored.correlationID == proposed.correlationID && stored.causationID == proposed.causationID)
            #expect(stored.stream == stream)
        }
        let report = try await store.verify()
        #expect(report.eventCount == 3, "\(report)")
    }
}
