import CumulusLog
import CumulusTesting
import Foundation
import Testing

@testable import CumulusLMDB

/// Each open returns a handle its caller owns; handles on one directory share the environment, not a lifetime.
@Suite("Handles and their owners")
struct OwnershipTests {
    let scratch = TemporaryDirectory(prefix: "cumulus-own")
    var directory: String { scratch.path }

    func contents() -> [String: Data] {
        var result: [String: Data] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            result[name] = FileManager.default.contents(atPath: directory + "/" + name)
        }
        return result
    }

    @Test func closingOneHandleLeavesTheOtherWorking() async throws {
        let first = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        let second = try LMDBEventStore.open(directory: directory)
        _ = try await first.append(SampleEvents.make(2), to: StreamName("user-1"))
        first.close()
        await #expect(throws: EventStoreError.closed) { _ = try await first.lastPosition() }
        // The second handle reads, appends and verifies as if the first had never been there.
        #expect(try await second.lastPosition() == GlobalPosition(2))
        let result = try await second.append(
            SampleEvents.make(3), to: StreamName("user-1"), expecting: .exactly(StreamVersion(2)))
        #expect(result.lastPosition == GlobalPosition(5))
        #expect(try await second.read(stream: StreamName("user-1")).count == 5)
        #expect(try await second.verify().eventCount == 5)
        second.close()
    }

    @Test func closingTheOtherOrderWorksToo() async throws {
        let first = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        let second = try LMDBEventStore.open(directory: directory)
        second.close()
        second.close()  // closing twice is harmless and does not count twice
        _ = try await first.append(SampleEvents.make(1), to: StreamName("user-1"))
        #expect(try await first.lastPosition() == GlobalPosition(1))
        first.close()
    }

    @Test func closingAHandleWakesOnlyItsOwnSubscribers() async throws {
        let first = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        let second = try LMDBEventStore.open(directory: directory)
        defer { second.close() }
        let firstWait = Task { () -> EventStoreError? in
            do {
                try await first.waitForEvents(after: .start)
                return nil
            } catch {
                return error as? EventStoreError
            }
        }
        let secondWait = Task { () -> EventStoreError? in
            do {
                try await second.waitForEvents(after: .start)
                return nil
            } catch {
                return error as? EventStoreError
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        first.close()
        #expect(await firstWait.value == .closed)
        // The second handle's subscriber is still waiting, and an append through it wakes it normally.
        _ = try await second.append(SampleEvents.make(1), to: StreamName("user-1"))
        #expect(await secondWait.value == nil)
    }

    @Test func subscriptionOnOneHandleSeesAppendsThroughAnother() async throws {
        let writer = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        let reader = try LMDBEventStore.open(directory: directory)
        defer {
            writer.close()
            reader.close()
        }
        let follower = Task { () throws -> [GlobalPosition] in
            var seen: [GlobalPosition] = []
            for try await event in reader.subscribe(after: .start) {
                seen.append(event.position)
                if seen.count == 3 { break }
            }
            return seen
        }
        for index in 0..<3 {
            _ = try await writer.append(SampleEvents.make(1, label: "\(index)"), to: StreamName("user-\(index)"))
        }
        #expect(try await follower.value == [GlobalPosition(1), GlobalPosition(2), GlobalPosition(3)])
    }

    @Test(arguments: [
        (LMDBEventStore.Options(durability: .deferred), "durability", "full", "deferred"),
        (LMDBEventStore.Options(initialMapSize: 32 << 20), "initialMapSize", "\(64 << 20)", "\(32 << 20)"),
        (LMDBEventStore.Options(initialMapSize: 64 << 20, maximumReaders: 100), "maximumReaders", "510", "100"),
    ])
    func conflictingOptionsAreRefusedAndChangeNothing(
        options: LMDBEventStore.Options, option: String, inUse: String, requested: String
    ) async throws {
        let first = try LMDBEventStore.open(
            directory: directory, options: .init(create: true, durability: .full, initialMapSize: 64 << 20))
        defer { first.close() }
        _ = try await first.append(SampleEvents.make(2), to: StreamName("user-1"))
        let before = contents()
        var conflicting = options
        if option != "initialMapSize" { conflicting.initialMapSize = 64 << 20 }
        #expect(
            throws: EventStoreError.conflictingOptions(
                path: first.directory, option: option, inUse: inUse, requested: requested)
        ) {
            _ = try LMDBEventStore.open(directory: directory, options: conflicting)
        }
        #expect(contents() == before)
        // The refusal did not disturb the handle that was open.
        _ = try await first.append(SampleEvents.make(1), to: StreamName("user-2"))
        #expect(try await first.lastPosition() == GlobalPosition(3))
    }

    @Test func theRefusalSaysWhatAndWhere() throws {
        let error = EventStoreError.conflictingOptions(
            path: "/srv/log", option: "durability", inUse: "full", requested: "deferred")
        #expect(error.description.contains("/srv/log"))
        #expect(error.description.contains("durability full"))
        #expect(error.description.contains("deferred"))
        #expect(error.description.contains("nothing was changed"))
    }

    @Test func aSymbolicLinkToTheDirectorySharesItsEnvironment() throws {
        let first = try LMDBEventStore.open(directory: directory + "/log", options: .init(create: true))
        defer { first.close() }
        try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: directory + "/log")
        let second = try LMDBEventStore.open(directory: directory + "/link")
        defer { second.close() }
        #expect(first.environment === second.environment)
    }

    @Test func createMayDifferBetweenHandles() throws {
        let first = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        defer { first.close() }
        let second = try LMDBEventStore.open(directory: directory, options: .init(create: false))
        defer { second.close() }
        #expect(second.options.create == false)
        #expect(first.environment === second.environment)
    }

    @Test func afterTheLastHandleClosesOtherOptionsAreAccepted() async throws {
        let first = try LMDBEventStore.open(directory: directory, options: .init(create: true))
        let second = try LMDBEventStore.open(directory: directory)
        _ = try await first.append(SampleEvents.make(1), to: StreamName("user-1"))
        first.close()
        second.close()
        // The environment really closed with its last handle: a new one may use another flush policy.
        let third = try LMDBEventStore.open(directory: directory, options: .init(durability: .noMetaSync))
        defer { third.close() }
        #expect(try await third.lastPosition() == GlobalPosition(1))
    }

    @Test func aHandleDroppedWithoutClosingReleasesItsShare() async throws {
        do {
            let dropped = try LMDBEventStore.open(directory: directory, options: .init(create: true))
            _ = try await dropped.append(SampleEvents.make(1), to: StreamName("user-1"))
        }
        let next = try LMDBEventStore.open(directory: directory, options: .init(durability: .deferred))
        defer { next.close() }
        #expect(try await next.lastPosition() == GlobalPosition(1))
    }
}
