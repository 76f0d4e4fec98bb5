import CumulusLMDB
import CumulusLog
import CumulusPostgres
import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization

/// `cumulus-bench postgres`: the log on PostgreSQL against its limit (the same rows inserted with plain SQL
/// through postgres-nio, no checks) and against `LMDBEventStore`, on the same events, in one run.
///
/// P1 single durable appends, P2 concurrent appenders, P3 bulk import grouped by stream, P4 a full scan. Rounds
/// alternate between the contenders (rotating who goes first) so that machine drift hits all alike. Needs
/// `CUMULUS_POSTGRES_URL` (Tools/scripts/postgres.sh); the server keeps `synchronous_commit=on`. Both PostgreSQL
/// contenders connect over plain TCP, or with `--tls` both over TLS (`sslmode=require`).
enum PostgresBenchmark {
    /// Whether both PostgreSQL contenders connect over TLS: set by `--tls` in the environment, so that the worker
    /// processes of the multi-process run inherit it.
    static var overTLS: Bool { getenv("CUMULUS_BENCH_PG_TLS").map { String(cString: $0) == "1" } ?? false }

    /// The limit's connections: plain, or TLS without checking the certificate, as the store's `sslmode=require`.
    static var limitTLS: PostgresClient.Configuration.TLS {
        guard overTLS else { return .disable }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return .require(configuration)
    }

    /// The store's `sslmode`, as the limit's.
    static var storeTLS: PostgresLocation.TLSMode { overTLS ? .require : .disable }

    struct Settings {
        var p1Events = 1_000
        var p2Events = 12_800
        var tasks = 64
        var processes = 3
        var events = 1_000_000
        var streams = 100_000
        var batch = 10_000
        var smoke = false
        /// The workloads to run (`--only p1,p2,p2m,p3`; P4 scans what P3 wrote).
        var only: Set<String> = ["p1", "p2", "p2m", "p3"]
        var directory = NSTemporaryDirectory() + "/cumulus-bench-pg-\(getpid())"

        init(_ arguments: [String]) throws {
            var index = 0
            func value() throws -> Int {
                index += 1
                guard index < arguments.count, let number = Int(arguments[index]), number > 0 else {
                    throw BenchError("\(arguments[index - 1]) needs a positive number")
                }
                return number
            }
            while index < arguments.count {
                switch arguments[index] {
                case "--p1-events": p1Events = try value()
                case "--p2-events": p2Events = try value()
                case "--tasks": tasks = try value()
                case "--processes": processes = try value()
                case "--events": events = try value()
                case "--streams": streams = try value()
                case "--batch": batch = try value()
                case "--smoke": smoke = true
                case "--tls": setenv("CUMULUS_BENCH_PG_TLS", "1", 1)
                case "--only":
                    index += 1
                    let names = index < arguments.count ? arguments[index].split(separator: ",").map(String.init) : []
                    guard !names.isEmpty, names.allSatisfy(["p1", "p2", "p2m", "p3"].contains) else {
                        throw BenchError("--only takes a list of p1, p2, p2m and p3, separated by commas")
                    }
                    only = Set(names)
                default: throw BenchError("unknown option \(arguments[index]) for cumulus-bench postgres")
                }
                index += 1
            }
            if smoke {
                p1Events = 200
                p2Events = 1_280
                events = 20_000
                streams = 2_000
                batch = 5_000
            }
        }
    }

    /// What each contender must be able to do.
    protocol Contender: Sendable {
        var name: String { get }
        func appendOne(_ event: GeneratedEvent, stream: StreamName) async throws
        func appendBatch(_ events: [GeneratedEvent], streams: [StreamName]) async throws
        /// Reads every event in order; returns the count and a checksum of (stream, payload).
        func scanAll() async throws -> (count: Int, checksum: UInt64)
        func close() async
    }

    static func run(_ arguments: [String]) async throws {
        let settings = try Settings(arguments)
        guard let url = ProcessInfo.processInfo.environment["CUMULUS_POSTGRES_URL"] else {
            throw BenchError(
                "CUMULUS_POSTGRES_URL is not set: eval \"$(bash Tools/scripts/postgres.sh start)\" first")
        }
        try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: settings.directory) }
        let workload = try PresenceWorkload(streams: settings.streams)
        let suffix = "\(getpid())"
        // One store per workload and contender, so that P1, P2 and P3 each start from an empty log.
        func contenders(_ label: String) async throws -> [any Contender] {
            [
                try await SQLLimit.open(url: url, schema: "bench_limit_\(label)_\(suffix)"),
                try await PostgresContender.open(url: url, schema: "bench_store_\(label)_\(suffix)"),
                try LMDBContender.open(directory: settings.directory + "/\(label)"),
            ]
        }
        var report: [String] = []
        if overTLS { report.append("Both PostgreSQL contenders over TLS (`--tls`).\n") }
        report.append("| workload | limit (SQL) | PostgresEventStore | LMDBEventStore | store ÷ limit | store ÷ LMDB |")
        report.append("| --- | --- | --- | --- | --- | --- |")
        func row(_ label: String, _ rates: [Double]) {
            let line =
                "| \(label) | \(format(rates[0])) | \(format(rates[1])) | \(format(rates[2])) | "
                + String(format: "%.2f× | %.2f× |", rates[1] / rates[0], rates[1] / rates[2])
            report.append(line)
            print(line)
        }
        var checks: [(String, Int, UInt64)] = []

        // P1: one event per durable commit, one appender.
        if settings.only.contains("p1") {
            let p1 = try await contenders("p1")
            var p1Time = [Double](repeating: 0, count: 3)
            let p1Rounds = max(1, settings.p1Events / 100)
            for round in 0..<p1Rounds {
                for offset in 0..<3 {
                    let which = (round + offset) % 3
                    let events = workload.events(round * 100..<(round + 1) * 100)
                    let started = ContinuousClock.now
                    for event in events {
                        try await p1[which].appendOne(event, stream: workload.streams[event.streamIndex])
                    }
                    p1Time[which] += seconds(ContinuousClock.now - started)
                }
            }
            row("P1 single durable appends (events/s)", p1Time.map { Double(p1Rounds * 100) / $0 })
            for contender in p1 { await contender.close() }
        }

        // P2: `tasks` concurrent appenders, one event per append, each awaiting its acknowledgement.
        let roundSize = settings.tasks * 40
        let p2Rounds = max(1, settings.p2Events / roundSize)
        if settings.only.contains("p2") {
            let p2 = try await contenders("p2")
            var p2Time = [Double](repeating: 0, count: 3)
            for round in 0..<p2Rounds {
                for offset in 0..<3 {
                    let which = (round + offset) % 3
                    let contender = p2[which]
                    let events = workload.events(round * roundSize..<(round + 1) * roundSize)
                    let started = ContinuousClock.now
                    try await appendConcurrently(
                        events, streams: workload.streams, tasks: settings.tasks, to: contender)
                    p2Time[which] += seconds(ContinuousClock.now - started)
                }
            }
            row(
                "P2 \(settings.tasks) concurrent appenders (events/s)", p2Time.map { Double(p2Rounds * roundSize) / $0 }
            )
            for contender in p2 { await contender.close() }
        }

        // P2 across processes: `processes` child processes × `tasks` appenders each, on one shared log, started
        // together; the rate is all their events over the wall time from the start signal to the last exit.
        if settings.only.contains("p2m") {
            let perProcess = max(settings.tasks, p2Rounds * roundSize / settings.processes)
            var p2mRates: [Double] = []
            for kind in ["limit", "store", "lmdb"] {
                let target = "p2m_\(kind)_\(suffix)"
                let shared: any Contender
                switch kind {
                case "limit": shared = try await SQLLimit.open(url: url, schema: "bench_limit_" + target)
                case "store": shared = try await PostgresContender.open(url: url, schema: "bench_store_" + target)
                default: shared = try LMDBContender.open(directory: settings.directory + "/" + target)
                }
                if let lmdb = shared as? LMDBContender { lmdb.store.close() }
                var children: [P2Child] = []
                for process in 0..<settings.processes {
                    let place = kind == "lmdb" ? settings.directory + "/" + target : target
                    children.append(
                        try P2Child(
                            kind: kind, target: place, tasks: settings.tasks, first: process * perProcess,
                            count: perProcess, streams: settings.streams))
                }
                for child in children { try child.waitUntilReady() }
                let started = ContinuousClock.now
                for child in children { child.go() }
                for child in children { try child.waitForExit() }
                let elapsed = seconds(ContinuousClock.now - started)
                p2mRates.append(Double(perProcess * settings.processes) / elapsed)
                if kind == "lmdb" {
                    try? FileManager.default.removeItem(atPath: settings.directory + "/" + target)
                } else {
                    await shared.close()
                }
            }
            row("P2 \(settings.processes) processes × \(settings.tasks) appenders (events/s)", p2mRates)
        }

        // P3: bulk import, `batch` events per commit grouped by stream; P4 then scans what P3 wrote.
        if settings.only.contains("p3") {
            let p3 = try await contenders("p3")
            var p3Time = [Double](repeating: 0, count: 3)
            let p3Rounds = max(1, settings.events / settings.batch)
            for round in 0..<p3Rounds {
                let events = workload.importBatch(round * settings.batch..<(round + 1) * settings.batch)
                for offset in 0..<3 {
                    let which = (round + offset) % 3
                    let started = ContinuousClock.now
                    try await p3[which].appendBatch(events, streams: workload.streams)
                    p3Time[which] += seconds(ContinuousClock.now - started)
                }
            }
            row(
                "P3 bulk import, \(p3Rounds * settings.batch) events over \(settings.streams) streams (events/s)",
                p3Time.map { Double(p3Rounds * settings.batch) / $0 })
            var p4Time = [Double](repeating: 0, count: 3)
            for offset in 0..<3 {
                let started = ContinuousClock.now
                let (count, checksum) = try await p3[offset].scanAll()
                p4Time[offset] = seconds(ContinuousClock.now - started)
                checks.append((p3[offset].name, count, checksum))
            }
            row("P4 full scan (events/s)", p4Time.map { Double(p3Rounds * settings.batch) / $0 })
            for contender in p3 { await contender.close() }
        }

        print("")
        for (name, count, checksum) in checks { print("read back by \(name): \(count) events, checksum \(checksum)") }
        let agreed =
            checks.isEmpty
            || (Set(checks.map(\.1)).count == 1 && Set(checks.map(\.2)).count == 1
                && checks[0].1 == max(1, settings.events / settings.batch) * settings.batch)
        print(agreed ? "all contenders stored and read back the same events" : "CONTENDERS DISAGREE")
        if !agreed { exit(1) }
        print("")
        print(report.joined(separator: "\n"))
    }

    /// `cumulus-bench postgres-p2-worker KIND TARGET TASKS FIRST COUNT STREAMS` (internal): opens the shared log
    /// (`limit`: the limit's table in schema `bench_limit_TARGET`; `store`: `PostgresEventStore` in schema
    /// `bench_store_TARGET`; `lmdb`: the directory TARGET), prints `ready`, waits for a line on standard input,
    /// then appends events FIRST..<FIRST+COUNT of the presence workload with TASKS concurrent appenders.
    static func p2Worker(_ arguments: [String]) async throws {
        guard arguments.count == 6, let tasks = Int(arguments[2]), let first = Int(arguments[3]),
            let count = Int(arguments[4]), let streamCount = Int(arguments[5])
        else { throw BenchError("usage: cumulus-bench postgres-p2-worker KIND TARGET TASKS FIRST COUNT STREAMS") }
        let workload = try PresenceWorkload(streams: streamCount)
        let contender: any Contender
        switch arguments[0] {
        case "limit":
            guard let url = ProcessInfo.processInfo.environment["CUMULUS_POSTGRES_URL"] else {
                throw BenchError("CUMULUS_POSTGRES_URL is not set")
            }
            contender = try await SQLLimit.attach(
                url: url, schema: "bench_limit_" + arguments[1], firstPosition: Int64(first))
        case "store":
            guard let url = ProcessInfo.processInfo.environment["CUMULUS_POSTGRES_URL"] else {
                throw BenchError("CUMULUS_POSTGRES_URL is not set")
            }
            contender = try await PostgresContender.attach(url: url, schema: "bench_store_" + arguments[1])
        default:
            contender = LMDBContender.attach(store: try LMDBEventStore.open(directory: arguments[1]))
        }
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        _ = readLine()
        try await appendConcurrently(
            workload.events(first..<first + count), streams: workload.streams, tasks: tasks, to: contender)
        if let lmdb = contender as? LMDBContender { lmdb.store.close() }
    }

    /// P2's appenders: `tasks` concurrent tasks, task `t` appending events t, t+tasks, t+2·tasks… of `events` one
    /// at a time, each awaiting its acknowledgement; returns when all have been appended.
    static func appendConcurrently(
        _ events: [GeneratedEvent], streams: [StreamName], tasks: Int, to contender: any Contender
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for index in stride(from: task, to: events.count, by: tasks) {
                        try await contender.appendOne(events[index], stream: streams[events[index].streamIndex])
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ rate: Double) -> String {
        rate >= 10_000 ? String(format: "%.0fk", rate / 1000) : String(format: "%.0f", rate)
    }

    /// The checksum every contender computes over what it reads back: order-independent, of stream and payload.
    static func mix(_ stream: String, _ payload: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in stream.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        hash = (hash ^ 0xFF) &* 0x100_0000_01B3
        for byte in payload { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }
}

/// The limit: the same rows inserted with plain SQL, positions and versions counted in memory, nothing read or
/// checked, no chain; one table with the same columns as the store's `events`.
final class SQLLimit: PostgresBenchmark.Contender, @unchecked Sendable {
    let name = "limit"
    let client: PostgresClient
    let runner: Task<Void, Never>
    let table: String
    let schema: String
    let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
    /// Positions and stream versions handed out in memory; locked, since P2's tasks share them.
    private let counters = Mutex<(position: Int64, versions: [String: Int64])>((0, [:]))

    private init(client: PostgresClient, runner: Task<Void, Never>, schema: String) {
        self.client = client
        self.runner = runner
        self.schema = schema
        table = "\"\(schema)\".events"
    }

    static func open(url: String, schema: String) async throws -> SQLLimit {
        let location = try PostgresLocation(url: url)
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: PostgresBenchmark.limitTLS)
        configuration.options.maximumConnections = 8
        let client = PostgresClient(configuration: configuration)
        let runner = Task { await client.run() }
        let limit = SQLLimit(client: client, runner: runner, schema: schema)
        try await client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \"\(schema)\""), logger: limit.logger)
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    CREATE TABLE \(limit.table) (position bigint PRIMARY KEY, stream text NOT NULL,
                        version bigint NOT NULL, id uuid NOT NULL, type text NOT NULL, actor text NOT NULL,
                        occurred_at bigint NOT NULL, recorded_at bigint NOT NULL, payload bytea NOT NULL)
                    """), logger: limit.logger)
        return limit
    }

    /// The limit's table made by another process; this process hands out positions from `firstPosition + 1`
    /// (each process of the multi-process run gets its own range: the limit coordinates nothing).
    static func attach(url: String, schema: String, firstPosition: Int64) async throws -> SQLLimit {
        let location = try PostgresLocation(url: url)
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: PostgresBenchmark.limitTLS)
        configuration.options.maximumConnections = 8
        let client = PostgresClient(configuration: configuration)
        let runner = Task { await client.run() }
        let limit = SQLLimit(client: client, runner: runner, schema: schema)
        limit.counters.withLock { $0.position = firstPosition }
        return limit
    }

    private func place(_ streams: [String]) -> (Int64, [Int64]) {
        counters.withLock { counters in
            let first = counters.position + 1
            counters.position += Int64(streams.count)
            var versions: [Int64] = []
            for stream in streams {
                let version = (counters.versions[stream] ?? 0) + 1
                counters.versions[stream] = version
                versions.append(version)
            }
            return (first, versions)
        }
    }

    func appendOne(_ event: GeneratedEvent, stream: StreamName) async throws {
        let (position, versions) = place([stream.rawValue])
        let proposed = event.proposed
        let recorded = Timestamp.now.microsecondsSinceEpoch
        try await client.query(
            """
            INSERT INTO \(unescaped: table) VALUES (\(position), \(stream.rawValue), \(versions[0]), \(proposed.id.uuid),
                \(proposed.type), \(proposed.actor), \(proposed.occurredAt.microsecondsSinceEpoch), \(recorded),
                \(ByteBuffer(bytes: proposed.payload)))
            """,
            logger: logger)
    }

    func appendBatch(_ events: [GeneratedEvent], streams: [StreamName]) async throws {
        let names = events.map { streams[$0.streamIndex].rawValue }
        let (first, versions) = place(names)
        let positions = (0..<Int64(events.count)).map { first + $0 }
        let recorded = Timestamp.now.microsecondsSinceEpoch
        let query: PostgresQuery = """
            INSERT INTO \(unescaped: table)
            SELECT * FROM unnest(\(positions)::bigint[], \(names)::text[], \(versions)::bigint[],
                \(events.map(\.proposed.id.uuid))::uuid[], \(events.map(\.proposed.type))::text[],
                \(events.map(\.proposed.actor))::text[],
                \(events.map(\.proposed.occurredAt.microsecondsSinceEpoch))::bigint[],
                \([Int64](repeating: recorded, count: events.count))::bigint[],
                \(events.map { ByteBuffer(bytes: $0.proposed.payload) })::bytea[])
            """
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            try await connection.query(query, logger: logger)
            try await connection.query("COMMIT", logger: logger)
        }
    }

    func scanAll() async throws -> (count: Int, checksum: UInt64) {
        var count = 0
        var checksum: UInt64 = 0
        var after: Int64 = 0
        while true {
            let rows = try await client.query(
                """
                SELECT position, stream, version, id, type, actor, occurred_at, recorded_at, payload FROM \(unescaped: table)
                WHERE position > \(after) ORDER BY position LIMIT 10000
                """, logger: logger)
            var seen = 0
            for try await (position, stream, _, _, _, _, _, _, payload) in rows.decode(
                (Int64, String, Int64, UUID, String, String, Int64, Int64, ByteBuffer).self)
            {
                checksum &+= PostgresBenchmark.mix(stream, payload.readableBytesView)
                after = position
                seen += 1
            }
            if seen == 0 { break }
            count += seen
        }
        return (count, checksum)
    }

    func close() async {
        _ = try? await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \"\(schema)\" CASCADE"), logger: logger)
        runner.cancel()
    }
}

/// `PostgresEventStore` through the `EventStore` API.
final class PostgresContender: PostgresBenchmark.Contender, Sendable {
    let name = "PostgresEventStore"
    let store: PostgresEventStore
    let url: String

    private init(store: PostgresEventStore, url: String) {
        self.store = store
        self.url = url
    }

    static func open(url: String, schema: String) async throws -> PostgresContender {
        PostgresContender(
            store: try await PostgresEventStore.open(location(url, schema), options: .init(create: true)), url: url)
    }

    /// The store's log in `schema`, connected as the limit's connections are: plain TCP, or TLS with `--tls` (the
    /// server of Tools/scripts/postgres.sh offers it).
    private static func location(_ url: String, _ schema: String) throws -> PostgresLocation {
        var location = try PostgresLocation(url: url)
        location.schema = schema
        location.tlsMode = PostgresBenchmark.storeTLS
        return location
    }

    /// The store made by another process.
    static func attach(url: String, schema: String) async throws -> PostgresContender {
        PostgresContender(store: try await PostgresEventStore.open(location(url, schema)), url: url)
    }

    func appendOne(_ event: GeneratedEvent, stream: StreamName) async throws {
        _ = try await store.append([event.proposed], to: stream, expecting: .any)
    }

    func appendBatch(_ events: [GeneratedEvent], streams: [StreamName]) async throws {
        _ = try await store.append(atomically: streamAppends(events, streams))
    }

    func scanAll() async throws -> (count: Int, checksum: UInt64) {
        try await scan(store)
    }

    func close() async {
        store.close()
        let schema = store.location.schema
        if let limit = try? await SQLLimit.dropper(url: url) {
            _ = try? await limit.client.query(
                PostgresQuery(unsafeSQL: "DROP SCHEMA \"\(schema)\" CASCADE"), logger: limit.logger)
            limit.runner.cancel()
        }
    }
}

extension SQLLimit {
    /// A client only for dropping a benchmark schema.
    static func dropper(url: String) async throws -> SQLLimit {
        let location = try PostgresLocation(url: url)
        let configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: PostgresBenchmark.limitTLS)
        let client = PostgresClient(configuration: configuration)
        return SQLLimit(client: client, runner: Task { await client.run() }, schema: "unused")
    }
}

/// `LMDBEventStore` through the same API, with full durability.
final class LMDBContender: PostgresBenchmark.Contender, Sendable {
    let name = "LMDBEventStore"
    let store: LMDBEventStore
    let directory: String

    private init(store: LMDBEventStore, directory: String) {
        self.store = store
        self.directory = directory
    }

    /// A handle on a log another process made.
    static func attach(store: LMDBEventStore) -> LMDBContender {
        LMDBContender(store: store, directory: "")
    }

    static func open(directory: String) throws -> LMDBContender {
        LMDBContender(
            store: try LMDBEventStore.open(directory: directory, options: .init(create: true)), directory: directory)
    }

    func appendOne(_ event: GeneratedEvent, stream: StreamName) async throws {
        _ = try await store.append([event.proposed], to: stream, expecting: .any)
    }

    func appendBatch(_ events: [GeneratedEvent], streams: [StreamName]) async throws {
        _ = try await store.append(atomically: streamAppends(events, streams))
    }

    func scanAll() async throws -> (count: Int, checksum: UInt64) {
        try await scan(store)
    }

    func close() async {
        store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// One `StreamAppend` per stream of an import batch (events arrive grouped by stream).
private func streamAppends(_ events: [GeneratedEvent], _ streams: [StreamName]) -> [StreamAppend] {
    var appends: [StreamAppend] = []
    for event in events {
        if let last = appends.last, last.stream == streams[event.streamIndex] {
            appends[appends.count - 1].events.append(event.proposed)
        } else {
            appends.append(
                StreamAppend(stream: streams[event.streamIndex], expectedVersion: .any, events: [event.proposed]))
        }
    }
    return appends
}

/// Reads a whole log through `readAll` in batches of 10,000.
private func scan(_ store: any EventStore) async throws -> (count: Int, checksum: UInt64) {
    var position = GlobalPosition.start
    var count = 0
    var checksum: UInt64 = 0
    while true {
        let events = try await store.readAll(after: position, maximumCount: 10_000)
        guard let last = events.last else { break }
        for event in events { checksum &+= PostgresBenchmark.mix(event.stream.rawValue, event.payload) }
        count += events.count
        position = last.position
    }
    return (count, checksum)
}

/// One child process of the multi-process P2: `cumulus-bench postgres-p2-worker …`.
final class P2Child {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(kind: String, target: String, tasks: Int, first: Int, count: Int, streams: Int) throws {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["postgres-p2-worker", kind, target, "\(tasks)", "\(first)", "\(count)", "\(streams)"]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
    }

    /// Waits for the child's `ready` line.
    func waitUntilReady() throws {
        let descriptor = output.fileHandleForReading.fileDescriptor
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = read(descriptor, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else {
                process.waitUntilExit()
                throw BenchError("a P2 worker stopped before it was ready (status \(process.terminationStatus))")
            }
            if byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        guard line == Array("ready".utf8) else {
            throw BenchError("a P2 worker said '\(String(decoding: line, as: UTF8.self))' instead of ready")
        }
    }

    /// Starts the child's appenders.
    func go() {
        input.fileHandleForWriting.write(Data("go\n".utf8))
    }

    /// Waits for the child to finish; fails unless it exited 0.
    func waitForExit() throws {
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("a P2 worker exited with status \(process.terminationStatus)")
        }
    }
}
