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

    /// Classifies every event of `store` (one pass, in batches).
    static func take(_ store: LMDBEventStore) throws -> DomainCensus {
        var census = DomainCensus()
        var position = GlobalPosition.start
        while true {
            let before = position
            position = try store.scan(after: position, maximumCount: 16_384) { event in
                switch DomainAdmission.classify(
                    stream: event.stream.rawValue, type: event.type, schemaVersion: event.schemaVersion,
                    payload: event.payload)
                {
                case .domain: census.domainEvents += 1
                case .foreign: census.foreignEvents += 1
                case .unreadable(let reason):
                    census.unreadableEvents += 1
                    if census.unreadable.count < maximumListed {
                        census.unreadable.append(
                            (
                                event.position, VisibleText.escaped(event.stream.rawValue),
                                VisibleText.escaped(event.type),
                                reason
                            ))
                    }
                }
            }
            if position == before { return census }
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
