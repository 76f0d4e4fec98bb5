import ArgumentParser
import CumulusCommands
import CumulusDemo
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusPostgres
import CumulusProjections
import Foundation

/// The main job: builds a realistic world in the data directory (or reuses the one there), rebuilds every
/// projection with progress, verifies the hash chain and prints a summary a newcomer understands.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a realistic world in the data directory (or reuse it), rebuild, verify, summarise.",
        discussion: """
            The world: tenants with partners and OUs, tens of services of all three types, thousands of licensed users,
            and a week of presence and user-state changes (over a million events with the default sizes) with the
            noise real feeds have: bursts of identical updates, duplicate deliveries, late events, and reporting
            switched off and on. A second run on the same directory reuses the log it finds.
            """
    )

    @OptionGroup var data: DataDirectoryOptions

    @Option(help: "Tenants in the world.")
    var tenants: Int = 4

    @Option(help: "Users per tenant.")
    var usersPerTenant: Int = 900

    @Option(help: "Days of presence and user-state feed (a week by default).")
    var days: Int = 7

    @Flag(help: "End after the summary instead of serving the world (also: CUMULUS_DEMO_FINITE=1).")
    var noServe = false

    @Option(help: "HOST:PORT the demo serves on.")
    var listen: String = "127.0.0.1:8080"

    func run() async throws {
        try await summarise()
        let finite = noServe || ProcessInfo.processInfo.environment["CUMULUS_DEMO_FINITE"] == "1"
        if !finite, PostgresLocation.isURL(data.storeText) {
            // The demo keeps its serve configuration and keys in the data directory, which a PostgreSQL log has
            // not: the demo on PostgreSQL ends after its summary; `cumulus serve --store URL` serves it.
            print(
                "not serving: the demo serves an LMDB data directory only; serve this log with "
                    + "`cumulus serve --store URL --config FILE` (docs/serve.md)")
        } else if !finite {
            try await reporting { try await DemoServing.serve(directory: try data.lmdbDirectory(), listen: listen) }
        }
    }

    private func summarise() async throws {
        try await reporting {
            let store = try await data.openStore(create: true)
            defer { store.close() }
            let clock = ContinuousClock()
            if try await store.lastPosition() == .start {
                try await build(store, clock: clock)
            } else {
                print("reusing the log at \(store.place) (\(try await store.lastPosition()) events)")
            }
            let known = Set(ProjectionSet.standard().projections.map(\.name))
            let rebuildStarted = clock.now
            let (set, rebuild) = try await ProjectionLoader.load(
                store, rebuilding: known, save: true, label: "rebuilding projections")
            _ = try await WriteModelKeeper.advance(store, fromZero: false)
            let rebuildSeconds = Self.seconds(clock.now - rebuildStarted)
            print(
                "rebuilt 5 projections from \(rebuild.eventsApplied) events in \(String(format: "%.1f", rebuildSeconds)) s "
                    + "(\(ProgressLine.formatRate(Double(rebuild.eventsApplied) / max(rebuildSeconds, 1e-9))) events/s)"
            )
            let total = try await store.lastPosition().rawValue
            let progress = ProgressLine("verifying", total: total)
            let box = ProgressBox(progress)
            let started = clock.now
            let report = try await store.verify { done in box.update(done) }
            progress.finish(report.eventCount)
            let seconds = Self.seconds(clock.now - started)
            print(
                "hash chain verified: \(report.eventCount) events in \(report.streamCount) streams "
                    + "(\(ProgressLine.formatRate(Double(report.eventCount) / max(seconds, 1e-9))) events/s), head \(report.headLink.prefix(16))…"
            )
            let statistics = try await store.statistics()
            print("data file: \(formatBytes(statistics.fileSize ?? 0)) at \(store.place)")
            print("")
            DemoSummary(set: set, dataDirectory: store.place, days: days).print()
        }
    }

    private func build(_ store: any EventStore, clock: ContinuousClock) async throws {
        var world = DemoWorld(tenants: tenants, usersPerTenant: usersPerTenant)
        let handler = CommandHandler(store: store, logger: data.logger)
        let setUp = world.setUp()
        var feed: [CommandRequest] = []
        for day in 0..<days { feed += world.feed(day: day) }
        print(
            "building the demo world: \(tenants) tenants, \(tenants * 10) services, \(world.users.count) users, "
                + "\(feed.count) feed deliveries over \(days) days")
        let started = clock.now
        var counts = LineCounts()
        try await apply(setUp, with: handler, label: "setting up", counts: &counts)
        try await apply(feed, with: handler, label: "feeding presence", counts: &counts)
        do throws(CommandError) { try await handler.saveCheckpoint() } catch { throw CommandFailure(error.description) }
        let seconds = Self.seconds(clock.now - started)
        let events = try await store.lastPosition().rawValue
        print(
            "appended \(events) events in \(String(format: "%.1f", seconds)) s "
                + "(\(ProgressLine.formatRate(Double(events) / max(seconds, 1e-9))) events/s, durable group commits): "
                + "\(counts.accepted) commands accepted, \(counts.duplicates) duplicate deliveries stored once, "
                + "\(counts.refused) refused")
        if let example = counts.firstRefusal { print("  e.g. refused: \(example)") }
    }

    private func apply(
        _ requests: [CommandRequest],
        with handler: CommandHandler,
        label: String,
        counts: inout LineCounts
    ) async throws {
        let progress = ProgressLine(label, total: UInt64(requests.count))
        let batches = stride(from: 0, to: requests.count, by: 5000).map {
            Array(requests[$0..<min($0 + 5000, requests.count)])
        }
        let box = ProgressBox(progress)
        let outcome = await handler.handle(batches: batches) { handled in
            box.update(UInt64(min(handled * 5000, requests.count)))
        }
        for results in outcome.results {
            for result in results {
                switch result {
                case .success(.alreadyStored): counts.duplicates += 1
                case .success: counts.accepted += 1
                case .failure(let error):
                    counts.refused += 1
                    if counts.firstRefusal == nil { counts.firstRefusal = error.description }
                }
            }
        }
        if let failure = outcome.failure { throw CommandFailure(failure.description) }
        progress.finish(UInt64(requests.count))
    }

    struct LineCounts {
        var accepted = 0
        var duplicates = 0
        var refused = 0
        var firstRefusal: String?
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
