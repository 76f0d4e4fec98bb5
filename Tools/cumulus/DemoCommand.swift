import ArgumentParser
import CumulusLMDB
import CumulusLog
import Foundation

/// The main job. Until the domain and projections land it is a tour of the log: create it, append a
/// realistic volume of events, read one stream back, verify the chain, and print the figures.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create a log in the data directory, fill it, read it back, verify it, and show the figures."
    )

    @OptionGroup var data: DataDirectoryOptions

    @Option(help: "How many events to append (only when the log is new).")
    var events: Int = 200_000

    @Option(help: "How many streams (users) they are spread over.")
    var streams: Int = 2000

    func run() async throws {
        try await reporting {
            let store = try data.open(create: true)
            defer { store.close() }
            let existing = try await store.lastPosition()
            if existing == .start {
                try await fill(store)
            } else {
                print("reusing the log at \(store.directory) (\(existing) events)")
            }
            let stream = try StreamName("user-demo-\(streams / 2)")
            let history = try await store.read(stream: stream)
            print("stream \(stream): \(history.count) events, last at position \(history.last?.position ?? .start)")
            if let last = history.last { print("  newest: \(EnvelopeJSON.line(for: last))") }
            let total = try await store.lastPosition().rawValue
            let progress = ProgressLine("verifying", total: total)
            let box = ProgressBox(progress)
            let clock = ContinuousClock()
            let started = clock.now
            let report = try await store.verify { done in box.update(done) }
            progress.finish(report.eventCount)
            let seconds = Self.seconds(clock.now - started)
            print(
                "hash chain verified: \(report.eventCount) events in \(report.streamCount) streams "
                    + "(\(ProgressLine.formatRate(Double(report.eventCount) / max(seconds, 1e-9))) events/s)")
            let statistics = try await store.statistics()
            print("data file: \(formatBytes(statistics.fileSize ?? 0)), map: \(formatBytes(statistics.mapSize ?? 0))")
        }
    }

    private func fill(_ store: LMDBEventStore) async throws {
        let availabilities = ["Available", "Busy", "Away", "BeRightBack", "DoNotDisturb", "Offline"]
        let start = Timestamp(iso8601: "2026-11-16T08:00:00Z") ?? .now
        let progress = ProgressLine("appending", total: UInt64(events))
        let clock = ContinuousClock()
        let started = clock.now
        var generator = SystemRandomNumberGenerator()
        var appended = 0
        let batchSize = 10_000
        while appended < events {
            let count = min(batchSize, events - appended)
            var byStream: [Int: [ProposedEvent]] = [:]
            for offset in 0..<count {
                let index = appended + offset
                let user = Int.random(in: 0..<streams, using: &generator)
                let availability = availabilities[Int.random(in: 0..<availabilities.count, using: &generator)]
                let payload = "{\"availability\":\"\(availability)\",\"activity\":\"\(availability)\"}"
                byStream[user, default: []].append(
                    ProposedEvent(
                        type: "PresenceChanged",
                        occurredAt: start.adding(seconds: Double(index) * 3),
                        actor: "presenceFeed:demo",
                        payload: Array(payload.utf8)
                    )
                )
            }
            let appends = try byStream.sorted { $0.key < $1.key }.map { user, events in
                StreamAppend(stream: try StreamName("user-demo-\(user)"), expectedVersion: .any, events: events)
            }
            _ = try await store.append(atomically: appends)
            appended += count
            progress.update(UInt64(appended))
        }
        progress.finish(UInt64(appended))
        let seconds = Self.seconds(clock.now - started)
        print(
            "appended \(appended) events over \(streams) streams in \(String(format: "%.2f", seconds)) s "
                + "(\(ProgressLine.formatRate(Double(appended) / max(seconds, 1e-9))) events/s, durable commits of \(batchSize))"
        )
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
