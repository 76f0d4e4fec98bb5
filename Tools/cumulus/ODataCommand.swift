import ArgumentParser
import Crypto
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusOData
import CumulusProjections
import Foundation

/// `cumulus odata PATH`: one request to the OData feed, answered from the log without a server (for checks,
/// scripts and the client test; `cumulus serve` mounts the same feed at `/odata/`).
struct ODataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "odata",
        abstract: "Answer one OData request (path below /odata/, with its query) from the log, as the server would.",
        discussion: """
            Prints the body; --include prints the status line and headers first. Page links are signed with
            $CUMULUS_ODATA_KEY, or else with a key derived from the log's first event (so a link from another log
            is refused).
            Example: cumulus odata 'UserStates?$filter=Start ge 2026-11-16T00:00:00Z&$top=10' \\
                --actor userSupervisor:<tenant>
            """
    )

    @OptionGroup var data: DataDirectoryOptions

    @Option(help: "Who reads, as an actor (userSupervisor:<id>, partnerAdmin:<id>, systemAdmin).")
    var actor: String = "systemAdmin"

    @Option(help: "The feed's root URL used in context URLs and next links.")
    var baseURL: String = "http://localhost:8080/odata/"

    @Option(help: "Rows per page.")
    var pageSize: Int = 1_000

    @Flag(help: "Print the status line and headers before the body.")
    var include = false

    @Argument(help: "The path below /odata/ with an optional ?query ('' for the service document, '$metadata', …).")
    var resource: String = ""

    func run() async throws {
        try await reporting {
            guard let reader = Actor(canonical: actor) else { throw CommandFailure("unknown actor '\(actor)'") }
            guard pageSize > 0 else { throw CommandFailure("--page-size must be at least 1") }
            let parts = resource.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            let request = ODataRequest(
                path: String(parts.first ?? ""), query: parts.count > 1 ? String(parts[1]) : "", baseURL: baseURL,
                reader: reader)
            let store = try data.open(readOnly: true)
            defer { store.close() }
            let key = try await Self.key(store)
            let feed = ODataService(configuration: ODataConfiguration(signingKey: key, pageSize: pageSize))
            let pin = feed.pin(of: request)
            let position = try await store.lastPosition().rawValue
            let point: AsOf? = pin.map { .position(GlobalPosition($0.position)) }
            let snapshot = try await Self.snapshot(
                store, asOf: point, position: pin?.position ?? position, instant: pin?.instant ?? .now)
            let response = feed.respond(to: request) { wanted in
                wanted == pin ? snapshot : nil
            }
            if include {
                print("HTTP/1.1 \(response.status)")
                for header in response.headers { print("\(header.name): \(header.value)") }
                print("")
            }
            print(response.text)
            if response.status >= 400 { throw ExitCode.failure }
        }
    }

    static func snapshot(
        _ store: LMDBEventStore, asOf: AsOf?, position: UInt64, instant: Timestamp
    ) async throws
        -> ODataSnapshot
    {
        let (set, _) = try await ProjectionLoader.load(store, asOf: asOf, save: false)
        guard let current = set.projection(CurrentStateProjection.self),
            let licences = set.projection(LicenceCountersProjection.self),
            let report = set.projection(UserStateReportProjection.self),
            let times = set.projection(TimeInStateProjection.self)
        else { throw CommandFailure("the standard projections are missing") }
        return ODataSnapshot(
            position: position, instant: instant, currentState: current, licences: licences, report: report,
            timeInState: times)
    }

    /// `$CUMULUS_ODATA_KEY`, or a key derived from the log's first event id.
    static func key(_ store: LMDBEventStore) async throws -> [UInt8] {
        if let text = ProcessInfo.processInfo.environment["CUMULUS_ODATA_KEY"], !text.isEmpty {
            return Array(SHA256.hash(data: Data(text.utf8)))
        }
        let first = try await store.readAll(after: GlobalPosition(0), maximumCount: 1).first?.id.description ?? "empty"
        return Array(SHA256.hash(data: Data("cumulus-odata-page-links|\(first)".utf8)))
    }
}
