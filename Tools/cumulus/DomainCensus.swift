import CumulusDomain
import CumulusLMDB
import CumulusLog

/// What `verify` and `stats` say about the log as the domain sees it: how many events are the domain's, how many
/// are foreign (other types in other streams), and which ones the domain cannot read (docs/domain.md, *Raw
/// appends*) — the views pass over those, so they are listed here rather than hidden.
struct DomainCensus {
    var domainEvents: UInt64 = 0
    var foreignEvents: UInt64 = 0
    var unreadableEvents: UInt64 = 0
    /// The first unreadable events: position, stream, type and why.
    var unreadable: [(position: GlobalPosition, stream: String, type: String, reason: String)] = []
    static let maximumListed = 20

    /// Classifies every event of `store` (one pass, in batches): LMDB's scan, else pages of `readAll`.
    static func take(_ store: any EventStore) async throws -> DomainCensus {
        var census = DomainCensus()
        var position = GlobalPosition.start
        while true {
            let before = position
            if let lmdb = store as? LMDBEventStore {
                position = try lmdb.scan(after: position, maximumCount: 16_384) { census.count($0) }
            } else {
                let events = try await store.readAll(after: position, maximumCount: 4096)
                for event in events { census.count(event) }
                position = events.last?.position ?? position
            }
            if position == before { return census }
        }
    }

    private mutating func count(_ event: RecordedEvent) {
        switch DomainAdmission.classify(
            stream: event.stream.rawValue, type: event.type, schemaVersion: event.schemaVersion,
            payload: event.payload)
        {
        case .domain: domainEvents += 1
        case .foreign: foreignEvents += 1
        case .unreadable(let reason):
            unreadableEvents += 1
            if unreadable.count < Self.maximumListed {
                unreadable.append(
                    (
                        event.position, VisibleText.escaped(event.stream.rawValue), VisibleText.escaped(event.type),
                        reason
                    ))
            }
        }
    }

    /// Lines for a person: the counts, then each listed unreadable event.
    var textLines: [String] {
        var lines = [
            "domain events: \(domainEvents), foreign events: \(foreignEvents), "
                + "unreadable by the domain (skipped by every view): \(unreadableEvents)"
        ]
        for item in unreadable {
            lines.append(
                "  unreadable: position \(item.position), stream \(item.stream), type \(item.type): \(item.reason)")
        }
        if unreadableEvents > UInt64(unreadable.count) {
            lines.append("  … and \(unreadableEvents - UInt64(unreadable.count)) more")
        }
        return lines
    }
}
