public import CumulusLog

/// A failed conformance check: which check, and what it saw.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// The check's name.
    public let check: String
    /// What was expected and what happened.
    public let message: String

    /// The failure as one line.
    public var description: String { "\(check): \(message)" }
}

/// The behaviour every `EventStore` backend must show, written against the protocol only.
///
/// A backend's tests run every check on a fresh, empty store:
/// ```swift
/// @Test(arguments: EventStoreConformance.checkNames)
/// func conformance(check: String) async throws {
///     let log = try TemporaryEventLog()
///     try await EventStoreConformance.run(check, on: log.store)
/// }
/// ```
public enum EventStoreConformance {
    /// One check: a name and what it does to an empty store.
    public typealias Check = @Sendable (any EventStore) async throws -> Void

    /// The names of all checks, in a stable order.
    public static var checkNames: [String] { checks.map(\.0) }

    /// Runs the check called `name` on `store`, which must be empty.
    /// - Throws: ``ConformanceFailure`` when the store does not behave as the protocol says.
    public static func run(_ name: String, on store: any EventStore) async throws {
        guard let check = checks.first(where: { $0.0 == name })?.1 else {
            throw ConformanceFailure(check: name, message: "no such check")
        }
        try await check(store)
    }

    static let checks: [(String, Check)] = [
        ("append and read back", appendAndReadBack),
        ("expected version", expectedVersion),
        ("multi-stream atomicity", multiStreamAtomicity),
        ("idempotent append", idempotentAppend),
        ("refused appends write nothing", refusedAppendsWriteNothing),
        ("read stream from a version", readStreamFromVersion),
        ("read all in batches", readAllInBatches),
        ("concurrent appenders", concurrentAppenders),
        ("independent appends", independentAppends),
        ("subscription catches up then follows", subscription),
        ("checkpoints", checkpoints),
        ("verify a sound log", verifySoundLog),
        ("chain links as verify reports them", chainLinks),
    ]

    static func expect(_ condition: Bool, _ check: String, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(check: check, message: message()) }
    }

    static func events(_ count: Int, _ label: String) -> [ProposedEvent] {
        SampleEvents.make(count, label: label)
    }

    static func appendAndReadBack(_ store: any EventStore) async throws {
        let name = "append and read back"
        let stream = try StreamName("user-1")
        let proposed = events(3, "a")
        let result = try await store.append(proposed, to: stream, expecting: .noStream)
        try expect(
            result.firstPosition == GlobalPosition(1) && result.lastPosition == GlobalPosition(3), name,
            "positions \(result.firstPosition)…\(result.lastPosition), expected 1…3")
        try expect(
            result.streamVersion == StreamVersion(3) && !result.wasAlreadyStored, name,
            "version \(result.streamVersion)")
        let read = try await store.read(stream: stream)
        try expect(read.map(\.id) == proposed.map(\.id), name, "read back other events")
        try expect(read.map(\.streamVersion.rawValue) == [1, 2, 3], name, "versions \(read.map(\.streamVersion))")
        try expect(read.map(\.payload) == proposed.map(\.payload), name, "payloads differ")
        for (event, original) in zip(read, proposed) {
            try expect(event.hasSameContent(as: original, in: stream), name, "envelope of \(event.id) differs")
        }
        let all = try await store.readAll(after: .start, maximumCount: 100)
        try expect(all.map(\.position.rawValue) == [1, 2, 3], name, "readAll positions \(all.map(\.position))")
        try expect(try await store.lastPosition() == GlobalPosition(3), name, "last position")
        let byID = try await store.event(id: proposed[1].id)
        try expect(byID?.position == GlobalPosition(2), name, "event by id at \(String(describing: byID?.position))")
        try expect(try await store.event(id: .generate()) == nil, name, "unknown id found")
        try expect(try await store.version(of: stream) == StreamVersion(3), name, "version(of:)")
        try expect(try await store.version(of: StreamName("nobody")) == .empty, name, "unknown stream has a version")
        try expect(try await store.read(stream: StreamName("nobody")).isEmpty, name, "unknown stream has events")
    }

    static func expectedVersion(_ store: any EventStore) async throws {
        let name = "expected version"
        let stream = try StreamName("tenant-1")
        _ = try await store.append(events(2, "t"), to: stream, expecting: .noStream)
        for expected in [ExpectedVersion.noStream, .exactly(StreamVersion(1)), .exactly(StreamVersion(5))] {
            do {
                _ = try await store.append(events(1, "x"), to: stream, expecting: expected)
                throw ConformanceFailure(check: name, message: "append expecting \(expected) was accepted at version 2")
            } catch EventStoreError.wrongExpectedVersion(let refused, let reportedExpected, let actual) {
                try expect(
                    refused == stream && reportedExpected == expected && actual == StreamVersion(2), name,
                    "error named \(refused), \(reportedExpected), \(actual)")
            }
        }
        let exact = try await store.append(events(1, "y"), to: stream, expecting: .exactly(StreamVersion(2)))
        try expect(exact.streamVersion == StreamVersion(3), name, "exact append gave version \(exact.streamVersion)")
        let any = try await store.append(events(1, "z"), to: stream, expecting: .any)
        try expect(any.streamVersion == StreamVersion(4), name, "any append gave version \(any.streamVersion)")
        try expect(try await store.lastPosition() == GlobalPosition(4), name, "refused appends wrote something")
    }

    static func multiStreamAtomicity(_ store: any EventStore) async throws {
        let name = "multi-stream atomicity"
        let tenant = try StreamName("tenant-9")
        let service = try StreamName("service-9")
        _ = try await store.append(events(1, "s"), to: service, expecting: .noStream)
        do {
            _ = try await store.append(atomically: [
                StreamAppend(stream: tenant, expectedVersion: .noStream, events: events(2, "t")),
                StreamAppend(stream: service, expectedVersion: .noStream, events: events(1, "s")),
            ])
            throw ConformanceFailure(check: name, message: "a multi-stream append with one mismatch was accepted")
        } catch EventStoreError.wrongExpectedVersion(let stream, _, _) {
            try expect(stream == service, name, "mismatch named \(stream)")
        }
        try expect(try await store.version(of: tenant) == .empty, name, "part of a refused multi-append was written")
        let results = try await store.append(atomically: [
            StreamAppend(stream: tenant, expectedVersion: .noStream, events: events(2, "t")),
            StreamAppend(stream: service, expectedVersion: .exactly(StreamVersion(1)), events: events(1, "s")),
        ])
        try expect(
            results.count == 2 && results[0].lastPosition == GlobalPosition(3)
                && results[1].lastPosition == GlobalPosition(4), name, "results \(results)")
        try expect(try await store.version(of: service) == StreamVersion(2), name, "service version")
    }

    static func idempotentAppend(_ store: any EventStore) async throws {
        let name = "idempotent append"
        let stream = try StreamName("user-7")
        let batch = events(3, "i")
        let first = try await store.append(batch, to: stream, expecting: .noStream)
        _ = try await store.append(events(1, "later"), to: stream)
        let again = try await store.append(batch, to: stream, expecting: .noStream)
        try expect(
            again.wasAlreadyStored && again.firstPosition == first.firstPosition
                && again.lastPosition == first.lastPosition && again.streamVersion == first.streamVersion, name,
            "retry returned \(again), the original was \(first)")
        try expect(try await store.lastPosition() == GlobalPosition(4), name, "a retried append wrote again")
        var changed = batch[1]
        changed.payload = Array("other".utf8)
        do {
            _ = try await store.append([changed], to: stream)
            throw ConformanceFailure(check: name, message: "same id with other content was accepted")
        } catch EventStoreError.eventIDConflict(let id, let position) {
            try expect(id == changed.id && position == GlobalPosition(2), name, "conflict named \(id) at \(position)")
        }
        do {
            _ = try await store.append([batch[0], events(1, "new")[0]], to: stream)
            throw ConformanceFailure(check: name, message: "a half-stored append was accepted")
        } catch EventStoreError.partiallyStored(let id, _) {
            try expect(id == batch[0].id, name, "partial named \(id)")
        }
        try expect(try await store.lastPosition() == GlobalPosition(4), name, "refusals wrote something")
    }

    static func refusedAppendsWriteNothing(_ store: any EventStore) async throws {
        let name = "refused appends write nothing"
        let stream = try StreamName("user-8")
        let one = events(1, "d")
        let refusals: [(String, [StreamAppend])] = [
            ("duplicate id", [StreamAppend(stream: stream, expectedVersion: .any, events: one + one)]),
            ("empty", [StreamAppend(stream: stream, expectedVersion: .any, events: [])]),
            (
                "duplicate stream",
                [
                    StreamAppend(stream: stream, expectedVersion: .any, events: events(1, "a")),
                    StreamAppend(stream: stream, expectedVersion: .any, events: events(1, "b")),
                ]
            ),
            (
                "empty type",
                [
                    StreamAppend(
                        stream: stream, expectedVersion: .any,
                        events: [
                            ProposedEvent(type: "", actor: "a", payload: [])
                        ])
                ]
            ),
        ]
        for (label, appends) in refusals {
            do {
                _ = try await store.append(atomically: appends)
                throw ConformanceFailure(check: name, message: "\(label) was accepted")
            } catch let error as EventStoreError {
                try expect(!error.description.isEmpty, name, "\(label) has no message")
            }
        }
        try expect(try await store.lastPosition() == .start, name, "a refused append wrote something")
    }

    static func readStreamFromVersion(_ store: any EventStore) async throws {
        let name = "read stream from a version"
        let stream = try StreamName("user-interleaved")
        for index in 0..<10 {
            _ = try await store.append(events(1, "mine-\(index)"), to: stream)
            _ = try await store.append(events(2, "other-\(index)"), to: StreamName("user-other-\(index % 3)"))
        }
        let middle = try await store.read(stream: stream, from: StreamVersion(4), maximumCount: 3)
        try expect(middle.map(\.streamVersion.rawValue) == [4, 5, 6], name, "versions \(middle.map(\.streamVersion))")
        try expect(
            middle.map { String(decoding: $0.payload, as: UTF8.self) } == ["mine-3-0", "mine-4-0", "mine-5-0"],
            name, "payloads of the middle")
        let tail = try await store.read(stream: stream, from: StreamVersion(9), maximumCount: 100)
        try expect(tail.map(\.streamVersion.rawValue) == [9, 10], name, "tail \(tail.map(\.streamVersion))")
        try expect(
            try await store.read(stream: stream, from: StreamVersion(11), maximumCount: 5).isEmpty, name,
            "read past the end")
    }

    static func readAllInBatches(_ store: any EventStore) async throws {
        let name = "read all in batches"
        for index in 0..<25 {
            _ = try await store.append(events(100, "b\(index)"), to: StreamName("batch-\(index % 4)"))
        }
        var position = GlobalPosition.start
        var batches = 0
        var seen: [UInt64] = []
        while true {
            let batch = try await store.readAll(after: position, maximumCount: 1000)
            if batch.isEmpty { break }
            try expect(batch.count <= 1000, name, "batch of \(batch.count)")
            seen += batch.map(\.position.rawValue)
            position = batch[batch.count - 1].position
            batches += 1
        }
        try expect(batches == 3 && seen == Array(1...2500), name, "\(batches) batches, \(seen.count) events")
    }

    static func concurrentAppenders(_ store: any EventStore) async throws {
        let name = "concurrent appenders"
        let contested = try StreamName("licences-contested")
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for task in 0..<64 {
                group.addTask {
                    // Every task appends to its own stream, and all race for the first event of one stream.
                    _ = try await store.append(events(2, "own-\(task)"), to: StreamName("user-task-\(task)"))
                    do {
                        _ = try await store.append(events(1, "race-\(task)"), to: contested, expecting: .noStream)
                        return (task, true)
                    } catch EventStoreError.wrongExpectedVersion {
                        return (task, false)
                    }
                }
            }
            var all: [(Int, Bool)] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        let winners = outcomes.filter(\.1).count
        try expect(winners == 1, name, "\(winners) tasks won the race for the first event, expected exactly 1")
        let all = try await store.readAll(after: .start, maximumCount: 1000)
        try expect(all.map(\.position.rawValue) == Array(1...129), name, "positions are not gap-free: \(all.count)")
        try expect(Set(all.map(\.id)).count == 129, name, "duplicate events")
        for task in 0..<64 {
            let own = try await store.read(stream: StreamName("user-task-\(task)"))
            try expect(own.map(\.streamVersion.rawValue) == [1, 2], name, "stream of task \(task)")
        }
    }

    static func independentAppends(_ store: any EventStore) async throws {
        let name = "independent appends"
        let taken = try StreamName("user-taken")
        _ = try await store.append(events(1, "x"), to: taken)
        let results = try await store.append(independently: [
            StreamAppend(stream: StreamName("user-a"), expectedVersion: .noStream, events: events(1, "a")),
            StreamAppend(stream: taken, expectedVersion: .noStream, events: events(1, "refused")),
            StreamAppend(stream: StreamName("user-b"), expectedVersion: .noStream, events: events(2, "b")),
            StreamAppend(stream: StreamName("user-c"), expectedVersion: .any, events: []),
        ])
        try expect(results.count == 4, name, "\(results.count) results")
        try expect((try? results[0].get())?.lastPosition == GlobalPosition(2), name, "first result \(results[0])")
        if case .failure(.wrongExpectedVersion(let stream, _, _)) = results[1] {
            try expect(stream == taken, name, "refusal named \(stream)")
        } else {
            throw ConformanceFailure(
                check: name, message: "the conflicting append was not refused alone: \(results[1])")
        }
        try expect((try? results[2].get())?.lastPosition == GlobalPosition(4), name, "third result \(results[2])")
        if case .failure(.emptyAppend) = results[3] {
        } else {
            throw ConformanceFailure(check: name, message: "the empty append was not refused: \(results[3])")
        }
        try expect(try await store.lastPosition() == GlobalPosition(4), name, "wrong number of events stored")
        // Units of several streams are atomic on their own: one stale stream refuses its whole unit only.
        let units = try await store.append(units: [
            [
                StreamAppend(stream: StreamName("user-d"), expectedVersion: .noStream, events: events(1, "d")),
                StreamAppend(stream: taken, expectedVersion: .exactly(StreamVersion(7)), events: events(1, "no")),
            ],
            [
                StreamAppend(stream: StreamName("user-e"), expectedVersion: .noStream, events: events(1, "e")),
                StreamAppend(stream: taken, expectedVersion: .exactly(StreamVersion(1)), events: events(1, "yes")),
            ],
        ])
        try expect((try? units[0].get()) == nil, name, "a unit with a stale stream was accepted")
        try expect((try? units[1].get())?.count == 2, name, "the sound unit was refused: \(units[1])")
        try expect(try await store.version(of: StreamName("user-d")) == .empty, name, "half a refused unit was written")
        try expect(try await store.version(of: taken) == StreamVersion(2), name, "the sound unit was not written")
    }

    static func subscription(_ store: any EventStore) async throws {
        let name = "subscription catches up then follows"
        let stream = try StreamName("user-live")
        _ = try await store.append(events(5, "old"), to: stream)
        let received = Task { () throws -> [UInt64] in
            var positions: [UInt64] = []
            for try await event in store.subscribe(after: .start, batchSize: 2) {
                positions.append(event.position.rawValue)
                if positions.count == 8 { break }
            }
            return positions
        }
        // Give the subscriber time to catch up and wait; the live events must arrive without polling.
        try await Task.sleep(for: .milliseconds(50))
        for index in 0..<3 { _ = try await store.append(events(1, "new-\(index)"), to: stream) }
        let positions = try await received.value
        try expect(positions == Array(1...8), name, "received \(positions)")
        let cancelled = Task { () async -> Bool in
            do {
                for try await _ in store.subscribe(after: GlobalPosition(8)) {}
                return false
            } catch {
                return (error as? EventStoreError) == .cancelled
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        cancelled.cancel()
        try expect(await cancelled.value, name, "a cancelled subscription did not end with .cancelled")
    }

    static func checkpoints(_ store: any EventStore) async throws {
        let name = "checkpoints"
        try expect(try await store.checkpoint(named: "current-state") == nil, name, "checkpoint before any save")
        let first = Checkpoint(name: "current-state", position: GlobalPosition(10), state: [1, 2, 3])
        try await store.save(first)
        try expect(try await store.checkpoint(named: "current-state") == first, name, "loaded another checkpoint")
        let second = Checkpoint(
            name: "current-state", position: GlobalPosition(20), state: Array(repeating: 7, count: 100_000))
        try await store.save(second)
        try await store.save(Checkpoint(name: "licences", position: GlobalPosition(5), state: []))
        try expect(try await store.checkpoint(named: "current-state") == second, name, "overwrite lost")
        try expect(try await store.checkpoint(named: "licences")?.position == GlobalPosition(5), name, "second name")
    }

    static func verifySoundLog(_ store: any EventStore) async throws {
        let name = "verify a sound log"
        let empty = try await store.verify()
        try expect(empty.eventCount == 0 && empty.headLink.isEmpty, name, "empty log report \(empty)")
        for index in 0..<10 { _ = try await store.append(events(3, "v\(index)"), to: StreamName("s-\(index % 4)")) }
        try await store.save(Checkpoint(name: "p", position: GlobalPosition(30), state: [9]))
        let report = try await store.verify()
        try expect(
            report.eventCount == 30 && report.streamCount == 4 && report.lastPosition == GlobalPosition(30)
                && report.headLink.count == 64 && report.checkpointCount == 1, name, "report \(report)")
    }

    /// `chainLink(at:)` gives, at every position, the head `verify` reported when that position was the last; a
    /// later append leaves the earlier links as they were; nothing before the first or past the last event.
    static func chainLinks(_ store: any EventStore) async throws {
        let name = "chain links as verify reports them"
        try expect(try await store.chainLink(at: GlobalPosition(1)) == nil, name, "a link in an empty log")
        var heads: [GlobalPosition: String] = [:]
        for index in 0..<6 {
            _ = try await store.append(events(index % 3 + 1, "c\(index)"), to: StreamName("c-\(index % 2)"))
            let report = try await store.verify()
            heads[report.lastPosition] = report.headLink
        }
        let last = try await store.lastPosition()
        for (position, head) in heads {
            let link = try await store.chainLink(at: position)
            try expect(link == head, name, "link at \(position): \(link ?? "none"), verify reported \(head)")
        }
        let links = try await (1...last.rawValue).asyncMap { try await store.chainLink(at: GlobalPosition($0)) }
        try expect(Set(links.compactMap { $0 }).count == Int(last.rawValue), name, "links repeat or are missing")
        try expect(try await store.chainLink(at: .start) == nil, name, "a link at position 0")
        try expect(
            try await store.chainLink(at: GlobalPosition(last.rawValue + 1)) == nil, name, "a link past the end")
    }
}

extension ClosedRange<UInt64> {
    /// The values of `transform` for each element, in order, one after another.
    fileprivate func asyncMap<T>(_ transform: (UInt64) async throws -> T) async rethrows -> [T] {
        var values: [T] = []
        for element in self { values.append(try await transform(element)) }
        return values
    }
}
