import CLMDB
import CSQLite
import CumulusCommands
import CumulusDemo
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusProjections
import Foundation

/// P5 and P6: a full rebuild of the projections from a log of domain events, side by side with the limit
/// (a raw LMDB cursor walk with a minimal decode of the same records) and with the same projection code fed
/// from the peer (SQLite, one SELECT in position order); then the rebuild's memory in a process of its own,
/// at every size, to show it stays flat as the log grows.
///
/// `cumulus-bench rebuild [--sizes 1000000,3000000] [--users 10000] [--passes 3] [--workload both|presence|demo]
/// [--demo-tenants 4] [--demo-users 900] [--demo-days 7]`
///
/// Two workloads, each with the same three contenders on the same events: `presence`, one tenant's feed of
/// presence and user-state changes; and `demo`, the real mix of `cumulus demo` (the same generator: tenants,
/// OUs, services, licences, users, a week of noisy feed), built through the command handler — which also
/// measures the import of the demo's commands against raw appends of the same events.
///
/// `--steady-state` measures memory only, on a feed in which each user keeps sending the same presence (the
/// Teams client's repeats): the projections' state then stays the same size however long the log, so the
/// rebuild's memory must not grow with the log either.
enum RebuildBenchmark {
    struct Settings {
        var sizes = [1_000_000, 3_000_000]
        var users = 10_000
        var passes = 3
        var steadyState = false
        var keep = false
        /// `--smoke`: one small log, one pass, and a failure exit unless every contender saw every event and the
        /// Cumulus-fed and the peer-fed projections came out byte for byte the same (no timing is judged).
        var smoke = false
        /// Threads a batch is spread over (`--lanes`; default: the set's own choice, the active processors).
        var lanes: Int?
        /// `--workload`: `presence` (one tenant's feed at each size), `demo` (the demo world) or `both`.
        var workload = "both"
        var demoTenants = 4
        var demoUsers = 900
        var demoDays = 7
        var directory = NSTemporaryDirectory() + "/cumulus-rebuild-\(getpid())"

        init(_ arguments: [String]) throws {
            var index = 0
            while index < arguments.count {
                let value = index + 1 < arguments.count ? arguments[index + 1] : ""
                switch arguments[index] {
                case "--steady-state", "--keep", "--smoke":
                    if arguments[index] == "--keep" { keep = true }
                    if arguments[index] == "--steady-state" { steadyState = true }
                    if arguments[index] == "--smoke" {
                        (smoke, sizes, users, passes) = (true, [20_000], 200, 1)
                        (demoTenants, demoUsers, demoDays) = (2, 30, 1)
                    }
                    index += 1
                    continue
                default: break
                }
                switch arguments[index] {
                case "--sizes": sizes = value.split(separator: ",").compactMap { Int($0) }
                case "--users": users = Int(value) ?? users
                case "--passes": passes = Int(value) ?? passes
                case "--lanes": lanes = Int(value)
                case "--workload": workload = value
                case "--demo-tenants": demoTenants = Int(value) ?? demoTenants
                case "--demo-users": demoUsers = Int(value) ?? demoUsers
                case "--demo-days": demoDays = Int(value) ?? demoDays
                case "--dir": directory = value
                default: throw BenchError("unknown rebuild option \(arguments[index])")
                }
                index += 2
            }
        }
    }

    static func run(_ arguments: [String]) async throws {
        let settings = try Settings(arguments)
        defer { if !settings.keep { try? FileManager.default.removeItem(atPath: settings.directory) } }
        print("P5/P6: full rebuild of current-state, licence-counters, user-state-report, time-in-state and audit")
        if settings.steadyState {
            print(
                "| events | limit: minimal-decode scan, events/s | Cumulus rebuild, events/s | peer-fed rebuild, events/s "
                    + "| Cumulus/limit | Cumulus/peer | rebuild heap MiB | projection state MiB | peak RSS MiB |")
            print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            return try await runSteadyState(settings)
        }
        var rows: [String] = []
        var importLine: String?
        if settings.workload != "demo" {
            for size in settings.sizes {
                let directory = settings.directory + "/\(size)"
                // With --keep, a log kept by an earlier run of the same size and directory is reused.
                if !(settings.keep && FileManager.default.fileExists(atPath: directory + "/peer.sqlite")) {
                    try await buildLog(events: size, users: settings.users, at: directory)
                }
                rows.append(try await compare(directory, events: size, workload: "presence", settings: settings))
            }
        }
        if settings.workload != "presence" {
            let directory = settings.directory + "/demo"
            if settings.keep && FileManager.default.fileExists(atPath: directory + "/peer.sqlite") {
                // A demo log kept by an earlier run (--keep): rebuilt again, not imported again.
                let store = try LMDBEventStore.open(directory: directory + "/log")
                let events = Int(try await store.lastPosition().rawValue)
                store.close()
                rows.append(try await compare(directory, events: events, workload: "demo world", settings: settings))
            } else {
                let built = try await buildDemoLog(at: directory, settings: settings)
                importLine = built.importLine
                rows.append(
                    try await compare(directory, events: built.events, workload: "demo world", settings: settings))
            }
        }
        print(
            "| workload | events | limit: minimal-decode scan, events/s | Cumulus rebuild, events/s "
                + "| peer-fed rebuild, events/s | Cumulus/limit | Cumulus/peer | rebuild heap MiB "
                + "| projection state MiB | heap − state MiB | peak RSS MiB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in rows { print(row) }
        if let importLine { print(importLine) }
        if settings.smoke {
            print("rebuild smoke: every contender saw every event; Cumulus-fed and peer-fed projections are identical")
            return
        }
        print(
            "Goals: Cumulus/limit ≥ 0.15 (≈ 2M events/s here); Cumulus/peer ≥ 3; rebuild heap ≤ projection state + 128 MiB, "
                + "flat as the log grows; import of the demo's commands ≥ 0.5 × raw appends. 'rebuild heap' is the "
                + "rebuilding process's anonymous memory after the rebuild (RssAnon); 'peak RSS' (VmHWM) also counts the "
                + "log's pages read through LMDB's memory map.")
    }

    /// The three contenders on one log, side by side, `passes` times in rotating order; one table row.
    static func compare(
        _ directory: String, events size: Int, workload: String, settings: Settings
    ) async throws
        -> String
    {
        do {
            var limit = 0.0
            var cumulus = 0.0
            var peer = 0.0
            var built: (limit: Int, cumulus: ProjectionSet?, peer: ProjectionSet?) = (0, nil, nil)
            for pass in 0..<settings.passes {
                for turn in 0..<3 {
                    switch (turn + pass) % 3 {
                    case 0:
                        let run = try minimalDecodeScan(directory + "/log")
                        (limit, built.limit) = (limit + run.seconds, run.events)
                    case 1:
                        let run = try await cumulusRebuild(directory + "/log", lanes: settings.lanes)
                        (cumulus, built.cumulus) = (cumulus + run.seconds, run.set)
                    default:
                        let run = try peerRebuild(directory + "/peer.sqlite", lanes: settings.lanes)
                        (peer, built.peer) = (peer + run.seconds, run.set)
                    }
                }
            }
            try crossCheck(events: size, limit: built.limit, cumulus: built.cumulus, peer: built.peer)
            let memory = try measureInChild(directory)
            let rates = [limit, cumulus, peer].map { Double(size * settings.passes) / max($0, 1e-9) }
            if !settings.keep { try? FileManager.default.removeItem(atPath: directory) }
            return "| \(workload) | \(size) | \(Int(rates[0])) | \(Int(rates[1])) | \(Int(rates[2])) | "
                + String(format: "%.3f | %.2f | ", rates[1] / rates[0], rates[1] / rates[2])
                + String(
                    format: "%.0f | %.0f | %.0f | %.0f |", memory.heap, memory.state, memory.heap - memory.state,
                    memory.peak)
        }
    }

    /// The demo world (`cumulus demo`'s generator) imported through the command handler, timed; then the same
    /// events appended raw (grouped as the commands grouped them, in group commits of the same size) to a second
    /// log, timed; then copied into SQLite for the peer.
    ///
    /// Both are timed `passes` times, taking turns (import, raw; then raw, import; …), each into a fresh log, and
    /// the rates are over all passes: a single import and a single raw run of a few seconds each were as far apart
    /// as the machine's load of the moment (import/raw 0.40–0.55 in five one-pass runs of one binary). The last
    /// import's log is the one kept and rebuilt.
    static func buildDemoLog(
        at directory: String, settings: Settings
    ) async throws -> (
        events: Int, importLine: String
    ) {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var world = DemoWorld(tenants: settings.demoTenants, usersPerTenant: settings.demoUsers)
        var requests = world.setUp()
        for day in 0..<settings.demoDays { requests += world.feed(day: day) }
        let batches = stride(from: 0, to: requests.count, by: 5000).map {
            Array(requests[$0..<min($0 + 5000, requests.count)])
        }
        let clock = ContinuousClock()
        var importSeconds = 0.0
        var rawSeconds = 0.0
        // CPU time, all threads: steadier than the wall clock on a loaded machine, and what the import costs.
        var importCPU = 0.0
        var rawCPU = 0.0
        var events = 0
        // The events the first import stored, grouped by command, for the raw appends.
        var units: [[StreamAppend]] = []
        // Imports into `directory/log` (removed first), timed; returns the number of events stored.
        func importOnce() async throws -> Int {
            try? FileManager.default.removeItem(atPath: directory + "/log")
            let store = try LMDBEventStore.open(
                directory: directory + "/log", options: .init(create: true, durability: .deferred))
            defer { store.close() }
            let handler = CommandHandler(store: store)
            let (began, cpu) = (clock.now, processCPUSeconds())
            if let failure = await handler.handle(batches: batches).failure { throw failure }
            importSeconds += seconds(clock.now - began)
            importCPU += processCPUSeconds() - cpu
            if units.isEmpty { units = try await rawUnits(of: store) }
            try store.flush()
            return Int(try await store.lastPosition().rawValue)
        }
        // Appends `units` raw to a fresh log, timed; returns the number of events stored.
        func rawOnce() async throws -> Int {
            let raw = try LMDBEventStore.open(
                directory: directory + "/raw", options: .init(create: true, durability: .deferred))
            defer {
                raw.close()
                try? FileManager.default.removeItem(atPath: directory + "/raw")
            }
            let (began, cpu) = (clock.now, processCPUSeconds())
            for chunk in stride(from: 0, to: units.count, by: 5000) {
                _ = try await raw.append(units: Array(units[chunk..<min(chunk + 5000, units.count)]))
            }
            rawSeconds += seconds(clock.now - began)
            rawCPU += processCPUSeconds() - cpu
            return Int(try await raw.lastPosition().rawValue)
        }
        let passes = max(1, settings.passes)
        for pass in 0..<passes {
            let order = pass % 2 == 0 ? [true, false] : [false, true]
            for importing in order {
                let stored = importing ? try await importOnce() : try await rawOnce()
                guard events == 0 || stored == events else {
                    throw BenchError("pass \(pass + 1) stored \(stored) events, an earlier one \(events)")
                }
                events = stored
            }
        }
        let store = try LMDBEventStore.open(directory: directory + "/log")
        try copyToPeer(store, at: directory)
        store.close()
        let importRate = Double(events * passes) / max(importSeconds, 1e-9)
        let rawRate = Double(events * passes) / max(rawSeconds, 1e-9)
        return (
            events,
            "Import of the demo's \(requests.count) commands (\(events) events) through the command handler: "
                + "\(Int(importRate)) events/s; raw appends of the same events in the same group commits: "
                + "\(Int(rawRate)) events/s; import/raw \(String(format: "%.2f", importRate / rawRate)) (goal ≥ 0.5; "
                + "\(passes) \(passes == 1 ? "pass" : "passes") each, taking turns); CPU time per event: import "
                + String(
                    format: "%.2f µs, raw %.2f µs", importCPU * 1e6 / Double(events * passes),
                    rawCPU * 1e6 / Double(events * passes))
        )
    }

    /// The events of `store`, grouped by command (one correlation id per decision) into the units of a raw append.
    static func rawUnits(of store: LMDBEventStore) async throws -> [[StreamAppend]] {
        var units: [[StreamAppend]] = []
        var current: [StreamAppend] = []
        var correlation: UUID?
        var position = GlobalPosition.start
        while true {
            let batch = try await store.readAll(after: position, maximumCount: 50_000)
            guard let last = batch.last else { break }
            for event in batch {
                if event.correlationID != correlation || correlation == nil {
                    if !current.isEmpty { units.append(current) }
                    current = []
                    correlation = event.correlationID
                }
                let proposed = ProposedEvent(
                    id: event.id, type: event.type, schemaVersion: event.schemaVersion, occurredAt: event.occurredAt,
                    actor: event.actor, correlationID: event.correlationID, payload: event.payload)
                if let index = current.firstIndex(where: { $0.stream == event.stream }) {
                    current[index].events.append(proposed)
                } else {
                    current.append(StreamAppend(stream: event.stream, expectedVersion: .any, events: [proposed]))
                }
            }
            position = last.position
        }
        if !current.isEmpty { units.append(current) }
        return units
    }

    /// A tenant with reporting and time in state on, `users` users, and a feed of presence and user-state
    /// changes (every fifth event a user-state change), written with the command handler for the set-up and
    /// as encoded domain events for the feed; then the same events copied into SQLite.
    static func buildLog(
        events: Int,
        users userCount: Int,
        at directory: String,
        repeats: Bool = false,
        peer: Bool = true
    ) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try LMDBEventStore.open(
            directory: directory + "/log", options: .init(create: true, durability: .deferred))
        let handler = CommandHandler(store: store)
        let tenant = TenantID(UUID())
        let start: Int64 = 1_794_787_200_000_000
        var setup = [
            CommandRequest(
                command: .createTenant(
                    tenant: tenant, name: "Bench", o365Domain: "bench.onmicrosoft.com",
                    azureTenantID: UUID().uuidString, partner: nil, rootOU: OUID(UUID()), rootOUName: "Bench",
                    widgetKey: UUID()), actor: .systemAdmin, occurredAt: start),
            CommandRequest(
                command: .changeDataPrivacySettings(
                    tenant: tenant,
                    settings: DataPrivacySettings(persistUserStatesInReporting: true, showTimeInState: true)),
                actor: .systemAdmin, occurredAt: start),
        ]
        let users = (0..<userCount).map { _ in UserID(UUID()) }
        for (index, user) in users.enumerated() {
            setup.append(
                CommandRequest(
                    command: .createUser(
                        tenant: tenant, user: user, upn: "u\(index)@bench.onmicrosoft.com",
                        displayName: "User \(index)",
                        ou: nil), actor: .systemAdmin, occurredAt: start))
        }
        for chunk in stride(from: 0, to: setup.count, by: 5000) {
            _ = try await handler.handle(batch: Array(setup[chunk..<min(chunk + 5000, setup.count)]))
        }
        let availabilities: [(Availability, Activity)] = [
            (.available, .available), (.busy, .inACall), (.away, .away), (.busy, .inAMeeting),
            (.doNotDisturb, .doNotDisturb),
        ]
        let states = ["Available", "ACW", "Break", "Backoffice"]
        let actor = Actor.presenceFeed(tenant).description
        var written = try await store.lastPosition().rawValue
        let feedEvents = max(0, events - Int(written))
        var index = 0
        while index < feedEvents {
            var byStream: [UserID: [ProposedEvent]] = [:]
            for offset in index..<min(index + 10_000, feedEvents) {
                let user = users[offset % userCount]
                // Each user's sequence varies (a mixed hash of the index), so changes are real changes.
                let mixed =
                    repeats ? 0 : Int(truncatingIfNeeded: (UInt64(offset) &* 0x9E37_79B9_7F4A_7C15) >> 33)
                let event: DomainEvent =
                    mixed % 5 == 4
                    ? .userStateChanged(
                        UserStateChanged(
                            user: user, state: UserStateName(name: states[(mixed / 5) % states.count]),
                            responsibilityProfile: "Support"))
                    : .presenceChanged(
                        PresenceChanged(
                            user: user, availability: availabilities[(mixed / 7) % availabilities.count].0,
                            activity: availabilities[(mixed / 7) % availabilities.count].1))
                byStream[user, default: []].append(
                    ProposedEvent(
                        type: event.typeName, schemaVersion: event.schemaVersion,
                        occurredAt: Timestamp(microsecondsSinceEpoch: start + Int64(offset) * 1_000_000),
                        actor: actor, payload: event.encodePayload()))
            }
            let appends = try byStream.map { user, events in
                StreamAppend(stream: try StreamName("user-\(user)"), expectedVersion: .any, events: events)
            }
            _ = try await store.append(atomically: appends)
            index += 10_000
        }
        try store.flush()
        written = try await store.lastPosition().rawValue
        guard peer else {
            store.close()
            return
        }
        try copyToPeer(store, at: directory)
        store.close()
        _ = written
    }

    /// The peer: the events of `store`, with the columns the projections need, in `directory/peer.sqlite`.
    static func copyToPeer(_ store: LMDBEventStore, at directory: String) throws {
        let peer = try SQLiteConnection(path: directory + "/peer.sqlite")
        try peer.execute("PRAGMA synchronous=OFF")
        try peer.execute(
            """
            CREATE TABLE domain_events(position INTEGER PRIMARY KEY, stream TEXT NOT NULL, version INTEGER NOT NULL,
                type TEXT NOT NULL, schema_version INTEGER NOT NULL, occurred_at INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL, actor TEXT NOT NULL, id BLOB NOT NULL, payload BLOB NOT NULL,
                UNIQUE(stream, version))
            """)
        let insert = try peer.prepare("INSERT INTO domain_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        try peer.execute("BEGIN")
        var position = GlobalPosition.start
        while true {
            let before = position
            position = try store.scan(after: position, maximumCount: 50_000) { event in
                sqlite3_bind_int64(insert.handle, 1, Int64(event.position.rawValue))
                bindText(insert.handle, 2, event.stream.rawValue)
                sqlite3_bind_int64(insert.handle, 3, Int64(event.streamVersion.rawValue))
                bindText(insert.handle, 4, event.type)
                sqlite3_bind_int64(insert.handle, 5, Int64(event.schemaVersion))
                sqlite3_bind_int64(insert.handle, 6, event.occurredAt.microsecondsSinceEpoch)
                sqlite3_bind_int64(insert.handle, 7, event.recordedAt.microsecondsSinceEpoch)
                bindText(insert.handle, 8, event.actor)
                event.id.bytes.withUnsafeBytes { raw in
                    _ = sqlite3_bind_blob(insert.handle, 9, raw.baseAddress, Int32(raw.count), sqliteTransient)
                }
                event.payload.withUnsafeBytes { raw in
                    _ = sqlite3_bind_blob(insert.handle, 10, raw.baseAddress, Int32(raw.count), sqliteTransient)
                }
                _ = try? insert.step()
                insert.reset()
            }
            if position == before { break }
        }
        try peer.execute("COMMIT")
    }

    /// P6 on a steady state: memory of a rebuild at every size, when the projections' state cannot grow.
    static func runSteadyState(_ settings: Settings) async throws {
        print("P6, steady state: every user repeats one presence, so the projections' state is the same at every size")
        print("| events | rebuild heap MiB | projection state MiB | peak RSS MiB |")
        print("| ---: | ---: | ---: | ---: |")
        for size in settings.sizes {
            let directory = settings.directory + "/\(size)"
            try await buildLog(events: size, users: settings.users, at: directory, repeats: true, peer: false)
            let memory = try measureInChild(directory)
            print(String(format: "| \(size) | %.0f | %.2f | %.0f |", memory.heap, memory.state, memory.peak))
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// The limit: every record visited with a raw cursor, reading only the fixed header fields.
    static func minimalDecodeScan(_ path: String) throws -> (seconds: Double, events: Int) {
        let raw = try RawLMDB(path: path, databases: ["events"])
        let events = try raw.handle("events")
        let clock = ContinuousClock()
        let began = clock.now
        var checksum: UInt64 = 0
        var count = 0
        try raw.read { txn in
            var cursor: OpaquePointer?
            guard mdb_cursor_open(txn, events, &cursor) == 0 else { throw BenchError("mdb_cursor_open") }
            defer { mdb_cursor_close(cursor) }
            var key = MDB_val()
            var data = MDB_val()
            var code = mdb_cursor_get(cursor, &key, &data, MDB_FIRST)
            while code == 0 {
                if let bytes = data.mv_data {
                    checksum &+= bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                    checksum &+= bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
                    checksum &+= UInt64(bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                    count += 1
                }
                code = mdb_cursor_get(cursor, &key, &data, MDB_NEXT)
            }
        }
        let elapsed = seconds(clock.now - began)
        if checksum == 42 { print("") }  // keeps the reads from being optimised away
        return (elapsed, count)
    }

    /// Cumulus: all five projections from position 0, fed by the log's scan (checkpoints not saved).
    static func cumulusRebuild(_ path: String, lanes: Int?) async throws -> (seconds: Double, set: ProjectionSet) {
        let store = try LMDBEventStore.open(directory: path)
        defer { store.close() }
        var set = ProjectionSet.standard()
        if let lanes { set.lanes = lanes }
        let clock = ContinuousClock()
        let began = clock.now
        _ = try await ProjectionCatchUp.run(&set, from: store, rebuilding: Set(set.projections.map(\.name)))
        return (seconds(clock.now - began), set)
    }

    /// The same projection code fed from SQLite.
    static func peerRebuild(_ path: String, lanes: Int?) throws -> (seconds: Double, set: ProjectionSet) {
        let peer = try SQLiteConnection(path: path)
        let select = try peer.prepare(
            "SELECT position, stream, version, type, schema_version, occurred_at, recorded_at, actor, id, payload "
                + "FROM domain_events ORDER BY position")
        var set = ProjectionSet.standard()
        if let lanes { set.lanes = lanes }
        let clock = ContinuousClock()
        let began = clock.now
        // One sequence of rows, fed as the catch-up feeds the log's events: decoded in batches on this thread while
        // lane threads apply the ones before (`ProjectionSet.apply(contentsOf:)`).
        var failure: (any Error)?
        let rows = AnyIterator<RecordedEvent> {
            do {
                guard try select.step() else { return nil }
                return try row(select.handle)
            } catch {
                failure = error
                return nil
            }
        }
        set.apply(contentsOf: rows)
        if let failure { throw failure }
        select.reset()
        return (seconds(clock.now - began), set)
    }

    /// The peer's row as a recorded event.
    private static func row(_ handle: OpaquePointer) throws -> RecordedEvent {
        let idBytes = blob(handle, 8)
        return RecordedEvent(
            id: EventID(bytes: idBytes.count == 16 ? idBytes : [UInt8](repeating: 0, count: 16)),
            stream: try StreamName(text(handle, 1)),
            streamVersion: StreamVersion(UInt64(sqlite3_column_int64(handle, 2))),
            position: GlobalPosition(UInt64(sqlite3_column_int64(handle, 0))),
            type: text(handle, 3),
            schemaVersion: UInt16(truncatingIfNeeded: sqlite3_column_int64(handle, 4)),
            occurredAt: Timestamp(microsecondsSinceEpoch: sqlite3_column_int64(handle, 5)),
            recordedAt: Timestamp(microsecondsSinceEpoch: sqlite3_column_int64(handle, 6)),
            actor: text(handle, 7), correlationID: nil, causationID: nil, payload: blob(handle, 9))
    }

    /// Every contender must have seen all `events`, and the projections fed by Cumulus and by the peer must be
    /// the same: the same positions and, projection by projection, the same stored state.
    static func crossCheck(events: Int, limit: Int, cumulus: ProjectionSet?, peer: ProjectionSet?) throws {
        guard let cumulus, let peer else { throw BenchError("a rebuild contender did not run") }
        guard limit == events else { throw BenchError("the limit scanned \(limit) of \(events) events") }
        let expected = GlobalPosition(UInt64(events))
        guard cumulus.positions.allSatisfy({ $0 == expected }), peer.positions.allSatisfy({ $0 == expected }) else {
            throw BenchError("rebuilt to \(cumulus.positions) (Cumulus) and \(peer.positions) (peer), not \(expected)")
        }
        for (ours, theirs) in zip(cumulus.checkpoints(), peer.checkpoints()) where ours.state != theirs.state {
            throw BenchError("\(ours.name): the Cumulus-fed and the peer-fed rebuilds differ")
        }
    }

    /// P6: a fresh process rebuilds once and reports its memory and the size of the projections' state.
    static func measureInChild(_ directory: String) throws -> (heap: Double, state: Double, peak: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !FileManager.default.isExecutableFile(atPath: process.executableURL?.path ?? "") {
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        }
        process.arguments = ["rebuild-worker", directory + "/log"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let fields = String(decoding: output, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
            .compactMap { Double($0) }
        guard fields.count == 3 else {
            throw BenchError("rebuild-worker printed \(String(decoding: output, as: UTF8.self))")
        }
        return (fields[0] / 1_048_576, fields[1] / 1_048_576, fields[2] / 1_048_576)
    }

    /// `cumulus-bench rebuild-worker LOG`: rebuilds once; prints "heap-bytes state-bytes peak-bytes".
    static func worker(_ path: String) async throws {
        let store = try LMDBEventStore.open(directory: path)
        var set = ProjectionSet.standard()
        if let lanes = ProcessInfo.processInfo.environment["CUMULUS_BENCH_LANES"].flatMap({ Int($0) }) {
            set.lanes = lanes
        }
        let started = ContinuousClock.now
        let report = try await ProjectionCatchUp.run(&set, from: store, rebuilding: Set(set.projections.map(\.name)))
        let elapsed = seconds(ContinuousClock.now - started)
        let usage = MemoryUsage.current()
        FileHandle.standardError.write(
            Data(
                ("rebuilt \(report.eventsApplied) events in \(String(format: "%.3f", elapsed)) s: "
                    + "\(Int(Double(report.eventsApplied) / elapsed)) events/s\n").utf8))
        for (projection, cost) in zip(set.projections, set.costs) {
            FileHandle.standardError.write(Data("cost of \(projection.name): \(String(format: "%.3f", cost)) s\n".utf8))
        }
        let checkpoints = set.checkpoints()
        let state = checkpoints.reduce(0) { $0 + $1.state.count }
        for checkpoint in checkpoints {
            FileHandle.standardError.write(Data("state of \(checkpoint.name): \(checkpoint.state.count) bytes\n".utf8))
        }
        print("\(usage.anonymous) \(state) \(usage.peak)")
        store.close()
    }

    private static let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func bindText(_ statement: OpaquePointer, _ index: Int32, _ text: String) {
        _ = sqlite3_bind_text(statement, index, text, -1, sqliteTransient)
    }

    private static func text(_ statement: OpaquePointer, _ index: Int32) -> String {
        sqlite3_column_text(statement, index).map { String(cString: $0) } ?? ""
    }

    private static func blob(_ statement: OpaquePointer, _ index: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, index))
        guard count > 0, let base = sqlite3_column_blob(statement, index) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }
}
