import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// Damaged data files (issue 14, items 4 and 5): every command ends with exit status 1 and one sentence —
/// never a signal — and nothing is appended to a log that fails its open-time checks.
@Suite("Damaged data files")
struct DamageTests {
    static let pageSize = 4096

    /// A small demo world, built once, and the ids the commands below need.
    struct World: Sendable {
        let directory: String
        let data: Data
        let user: String
        let tenant: String
        let events: Int
    }

    static let world = Task<World, any Error> {
        let directory = TemporaryDirectory.removedAtExit(prefix: "cumulus-damage-world")
        let demo = try await ChildProcess.run(
            "cumulus",
            [
                "demo", "--data-dir", directory, "--tenants", "1", "--users-per-tenant", "30", "--days", "2",
                "--no-serve",
            ])
        guard demo.status == 0 else { throw WorldError(text: demo.error) }
        let read = try await ChildProcess.run("cumulus", ["read", "--data-dir", directory])
        let streams = read.output.split(separator: "\n").compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return nil
            }
            return object["stream"] as? String
        }
        guard let userStream = streams.first(where: { $0.hasPrefix("user-") }) else {
            throw WorldError(text: "no user in the demo world")
        }
        let user = String(userStream.dropFirst(5))
        let state = try await ChildProcess.run("cumulus", ["state", "user", user, "--data-dir", directory])
        guard let object = try JSONSerialization.jsonObject(with: Data(state.output.utf8)) as? [String: Any],
            let tenant = object["tenant"] as? String
        else { throw WorldError(text: "no tenant for \(user): \(state.error)") }
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/data.mdb"))
        return World(directory: directory, data: data, user: user, tenant: tenant, events: streams.count)
    }

    struct WorldError: Error { let text: String }

    /// One command of the tool, as it meets the damaged copy.
    struct Invocation: Sendable {
        let name: String
        let arguments: [String]
        let input: String?
        var writes: Bool { name == "append" || name == "import" }
    }

    static func invocations(_ world: World) -> [Invocation] {
        let presence =
            "{\"command\":\"recordPresence\",\"actor\":\"presenceFeed:\(world.tenant)\","
            + "\"occurredAt\":\"2026-11-20T08:41:00Z\",\"user\":\"\(world.user)\",\"availability\":\"Busy\"}\n"
        return [
            Invocation(name: "verify", arguments: ["verify"], input: nil),
            Invocation(name: "read", arguments: ["read"], input: nil),
            Invocation(name: "state", arguments: ["state", "user", world.user], input: nil),
            Invocation(name: "rebuild", arguments: ["rebuild"], input: nil),
            Invocation(
                name: "append", arguments: ["append"],
                input: "{\"stream\":\"note-1\",\"type\":\"Noted\",\"actor\":\"a\"}\n"),
            Invocation(name: "import", arguments: ["import"], input: presence),
        ]
    }

    /// Runs `invocation` on a fresh copy holding `data`; returns its result and whether the file changed.
    static func run(
        _ invocation: Invocation, on data: Data
    ) async throws -> (status: Int32, output: String, error: String, changed: Bool) {
        let directory = TemporaryEventLog.makeDirectory(prefix: "cumulus-damaged")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try data.write(to: URL(fileURLWithPath: directory + "/data.mdb"))
        let result = try await ChildProcess.run(
            "cumulus", invocation.arguments + ["--data-dir", directory], input: invocation.input.map { Data($0.utf8) },
            timeout: 60)
        let after = try Data(contentsOf: URL(fileURLWithPath: directory + "/data.mdb"))
        return (result.status, result.output, result.error, after != data)
    }

    /// The leaf pages of the `events` database (8-byte keys), in key order: (page, first position).
    static func eventLeaves(_ data: Data) -> [(page: Int, first: UInt64)] {
        let bytes = [UInt8](data)
        func u16(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 }
        var leaves: [(page: Int, first: UInt64)] = []
        for page in 2..<(bytes.count / pageSize) {
            let base = page * pageSize
            let number = bytes[base..<base + 8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            guard number == page, u16(base + 10) & 0x02 != 0, u16(base + 12) > 16 else { continue }
            let node = base + u16(base + 16)
            guard node + 16 <= base + pageSize, u16(node + 6) == 8 else { continue }
            let key = bytes[node + 8..<node + 16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if key > 0 && key < 1_000_000 { leaves.append((page, key)) }
        }
        return leaves.sorted { $0.first < $1.first }
    }

    /// The branch page of the `events` database whose children are most of its leaves (its root here).
    static func eventBranch(_ data: Data) -> Int? {
        let bytes = [UInt8](data)
        func u16(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 }
        let leaves = Set(eventLeaves(data).map(\.page))
        var best: (page: Int, children: Int)?
        for page in 2..<(bytes.count / pageSize) {
            let base = page * pageSize
            guard u16(base + 10) & 0x01 != 0, u16(base + 12) > 16, u16(base + 12) < pageSize else { continue }
            var children = 0
            for index in 0..<(u16(base + 12) - 16) / 2 {
                let node = base + u16(base + 16 + 2 * index)
                guard node + 8 <= base + pageSize else { continue }
                if leaves.contains(u16(node) | u16(node + 2) << 16) { children += 1 }
            }
            if children > (best?.children ?? 0) { best = (page, children) }
        }
        return best?.page
    }

    static func zeroing(page: Int, of data: Data) -> Data {
        var damaged = data
        damaged.replaceSubrange(page * pageSize..<(page + 1) * pageSize, with: Data(count: pageSize))
        return damaged
    }

    @Test("truncated by one page or to half: every command exits 1 naming the truncation, nothing appended")
    func truncatedFiles() async throws {
        let world = try await Self.world.value
        let data = world.data
        for (label, damaged) in [
            ("one page", data.prefix(data.count - Self.pageSize)), ("half", data.prefix(data.count / 2 / 4096 * 4096)),
        ] {
            for invocation in Self.invocations(world) {
                let result = try await Self.run(invocation, on: Data(damaged))
                #expect(result.status == 1, "\(label), \(invocation.name): status \(result.status) \(result.error)")
                #expect(
                    result.error.hasPrefix("cumulus: the log is damaged: ") && result.error.contains("is truncated"),
                    "\(label), \(invocation.name): \(result.error)")
                #expect(!result.changed, "\(label), \(invocation.name) wrote to the truncated file")
            }
        }
    }

    @Test("a zeroed last leaf page: every command exits 1 with a message, nothing is appended")
    func zeroedLastLeaf() async throws {
        let world = try await Self.world.value
        let last = try #require(Self.eventLeaves(world.data).last)
        let damaged = Self.zeroing(page: last.page, of: world.data)
        for invocation in Self.invocations(world) {
            let result = try await Self.run(invocation, on: damaged)
            #expect(result.status == 1, "\(invocation.name): status \(result.status) \(result.error)")
            #expect(result.error.hasPrefix("cumulus: the log") && result.error.contains("damaged"), "\(result.error)")
            #expect(!result.changed, "\(invocation.name) wrote to a log whose last leaf page is zeroed")
        }
    }

    @Test("a zeroed middle leaf page: verify names position and page, no command dies of a signal")
    func zeroedMiddleLeaf() async throws {
        let world = try await Self.world.value
        let leaves = Self.eventLeaves(world.data)
        let middle = leaves[leaves.count / 2]
        let damaged = Self.zeroing(page: middle.page, of: world.data)
        for invocation in Self.invocations(world) {
            let result = try await Self.run(invocation, on: damaged)
            #expect(result.status == 0 || result.status == 1, "\(invocation.name): status \(result.status)")
            if result.status == 1 {
                #expect(result.error.hasPrefix("cumulus: "), "\(invocation.name): \(result.error)")
                if invocation.writes { #expect(!result.changed, "\(invocation.name) failed but wrote") }
            }
            switch invocation.name {
            case "verify":
                // LMDB asserts on the zeroed page (SIGABRT before); the walk's child names where it was.
                #expect(result.status == 1)
                #expect(result.error.contains("near position") && result.error.contains("(page "), "\(result.error)")
            case "read":
                // It reads the whole log: it stops at the damage with a sentence. (`import` decides against the
                // kept write model and reads only the events after its checkpoint, so it never meets this page.)
                #expect(result.status == 1 && result.error.contains("damaged"), "\(result.error)")
            default:
                break
            }
        }
    }

    @Test("single byte flips: every command exits 0 or 1 with a message, never a signal")
    func byteFlips() async throws {
        let world = try await Self.world.value
        var generator = SplitMix64(seed: 0xF11D)
        var failures = 0
        let leaves = Self.eventLeaves(world.data)
        for round in 0..<10 {
            // Half anywhere in the file, half inside the nodes (the records) of an events leaf page.
            let offset: Int
            if round % 2 == 0 {
                offset = 2 * Self.pageSize + Int(generator.next() % UInt64(world.data.count - 2 * Self.pageSize))
            } else {
                let page = leaves[Int(generator.next() % UInt64(leaves.count))].page * Self.pageSize
                let upper = Int(world.data[page + 14]) | Int(world.data[page + 15]) << 8
                offset = page + upper + Int(generator.next() % UInt64(Self.pageSize - upper))
            }
            var damaged = world.data
            damaged[offset] ^= UInt8(1) << UInt8(offset % 8)
            for invocation in Self.invocations(world) {
                let result = try await Self.run(invocation, on: damaged)
                #expect(
                    result.status == 0 || result.status == 1,
                    "flip at \(offset), \(invocation.name): status \(result.status) \(result.error)")
                if result.status == 1 {
                    failures += 1
                    #expect(result.error.hasPrefix("cumulus: "), "flip at \(offset), \(invocation.name)")
                }
            }
        }
        #expect(failures > 0, "no flip was noticed by any command")
    }

    @Test("flips in page headers and node pointers (LMDB faulted or asserted on these): exit 1, never a signal")
    func structuralFlips() async throws {
        let world = try await Self.world.value
        let leaves = Self.eventLeaves(world.data)
        let branch = try #require(Self.eventBranch(world.data))
        let walks = Self.invocations(world).filter { $0.name == "verify" || $0.name == "read" }
        var named = 0
        for page in [leaves[leaves.count / 2].page, leaves[leaves.count - 1].page, branch] {
            for offset in [12, 13, 16, 17, 18, 20, 21, 22, 23] {
                for bit in [0, 3] {
                    var damaged = world.data
                    damaged[page * Self.pageSize + offset] ^= UInt8(1) << UInt8(bit)
                    for invocation in walks {
                        let result = try await Self.run(invocation, on: damaged)
                        #expect(
                            result.status == 0 || result.status == 1,
                            "page \(page) byte \(offset) bit \(bit), \(invocation.name): status \(result.status)")
                        if result.status == 1 {
                            #expect(result.error.hasPrefix("cumulus: "), "\(result.error)")
                            if result.error.contains("storage engine") { named += 1 }
                        }
                    }
                }
            }
        }
        #expect(named > 0, "no flip reached the storage engine's own checks")
    }

    @Test("read refuses an altered record instead of printing it")
    func readChecksLinksAndBackLinks() async throws {
        let directory = TemporaryEventLog.makeDirectory(prefix: "cumulus-altered")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try await ChildProcess.run("cumulus", ["init", "--data-dir", directory]).status == 0)
        let lines = (1...40).map {
            "{\"stream\":\"s-\($0 % 3)\",\"type\":\"T\",\"actor\":\"a\",\"payloadText\":\"MARK\($0)\"}"
        }
        let appended = try await ChildProcess.run(
            "cumulus", ["append", "--data-dir", directory], input: Data(lines.joined(separator: "\n").utf8))
        #expect(appended.status == 0)
        let file = URL(fileURLWithPath: directory + "/data.mdb")
        var data = try Data(contentsOf: file)
        // Alter the payload of the event at position 20 ("MARK20" → "MARK21"): it still decodes.
        let marker = try #require(data.range(of: Data("MARK20".utf8)))
        data[marker.upperBound - 1] = UInt8(ascii: "1")
        try data.write(to: file)
        let read = try await ChildProcess.run("cumulus", ["read", "--data-dir", directory])
        #expect(read.status == 1)
        #expect(read.error.contains("damaged at position 20: the hash chain breaks"), "\(read.error)")
        // The events before the altered one are printed; it and those after are not.
        #expect(
            read.output.split(separator: "\n").count == 19 && !read.output.contains("MARK20\"")
                && !read.output.contains("MARK21\""))
        let stream = try await ChildProcess.run("cumulus", ["read", "--data-dir", directory, "--stream", "s-2"])
        #expect(stream.status == 1 && stream.error.contains("position 20"), "\(stream.error)")
        let after = try await ChildProcess.run("cumulus", ["read", "--data-dir", directory, "--after", "20"])
        #expect(after.status == 0 && after.output.split(separator: "\n").count == 20, "\(after.error)")
    }

    @Test("a fault during verify's walk prints the position and page reached and exits 1")
    func faultDuringWalkIsNamed() async throws {
        let world = try await Self.world.value
        for signal in ["segv", "bus"] {
            let result = try await ChildProcess.run(
                "cumulus-torture", ["fault-in-verify", world.directory, signal], timeout: 60)
            #expect(result.status == 1, "\(signal): status \(result.status) \(result.error)")
            #expect(
                result.error.contains(signal == "bus" ? "faulted (SIGBUS)" : "faulted (SIGSEGV)"), "\(result.error)")
            #expect(result.error.contains("near position \(world.events) (page "), "\(result.error)")
            #expect(!result.output.contains("no fault"))
        }
    }

    @Test("one zeroed meta page is named, and `cumulus repair` restores the log from the other")
    func zeroedMetaPageIsRepaired() async throws {
        let world = try await Self.world.value
        let bytes = [UInt8](world.data)
        func transaction(_ page: Int) -> UInt64 {
            bytes[page * Self.pageSize + 144..<page * Self.pageSize + 152].reversed().reduce(UInt64(0)) {
                $0 << 8 | UInt64($1)
            }
        }
        for bad in [0, 1] {
            let good = 1 - bad
            let directory = TemporaryEventLog.makeDirectory(prefix: "cumulus-meta")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let damaged = Self.zeroing(page: bad, of: world.data)
            try damaged.write(to: URL(fileURLWithPath: directory + "/data.mdb"))
            let verify = try await ChildProcess.run("cumulus", ["verify", "--data-dir", directory])
            #expect(verify.status == 1)
            #expect(
                verify.error.contains(
                    "meta page \(bad) is zeroed; meta page \(good) is intact at txn \(transaction(good))"),
                "\(verify.error)")
            #expect(verify.error.contains("cumulus repair"))
            let repair = try await ChildProcess.run("cumulus", ["repair", "--data-dir", directory])
            #expect(repair.status == 0, "\(repair.error)")
            #expect(repair.output.contains("meta page \(bad) was zeroed; rewritten from meta page \(good)"))
            let backups = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
                $0.hasPrefix("data.mdb.damaged-")
            }
            #expect(backups.count == 1)
            if let backup = backups.first {
                #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + backup)) == damaged)
            }
            let after = try await ChildProcess.run("cumulus", ["verify", "--data-dir", directory])
            #expect(after.status == 0 && after.output.contains("log is sound"), "\(after.error)")
            let read = try await ChildProcess.run("cumulus", ["read", "--data-dir", directory])
            let count = read.output.split(separator: "\n").count
            if transaction(good) > transaction(bad) {
                #expect(count == world.events, "the good page held the last commit: nothing may be lost")
            } else {
                #expect(count <= world.events && count > 0)
            }
            let again = try await ChildProcess.run("cumulus", ["repair", "--data-dir", directory])
            #expect(again.status == 0 && again.output.contains("nothing to repair"))
        }
    }
}
