/// Which stored events belong to the domain, and what raw writes may put into the domain's part of the log.
///
/// The rule (docs/domain.md, *Raw appends and events the domain cannot read*):
/// - a raw append (`cumulus append`, an embedding service writing envelopes) into a domain stream
///   (``domainStreamPrefixes``) or with a domain event type (``DomainEvent/typeNames``) is accepted only when
///   its payload decodes as that domain event and the event belongs to exactly that stream;
/// - readers of the domain (the write model, the projections) skip every event they cannot decode instead of
///   stopping there: foreign events (another type in another stream) silently, unreadable ones (a domain type or
///   stream they cannot read, e.g. written before this rule or by a newer version) counted, and `verify` and
///   `stats` list the unreadable ones. The log is never dead for the domain.
public enum DomainAdmission {
    /// The stream-name prefixes of the domain's streams (one per aggregate kind, see ``AggregateStream``).
    public static let domainStreamPrefixes = [
        "tenant-", "ou-", "service-", "user-", "licences-", "registry-", "upns-", "outree-",
    ]

    private static let domainTypes = Set(DomainEvent.typeNames)

    /// Whether `stream` is (or looks like) one of the domain's streams.
    public static func isDomainStream(_ stream: String) -> Bool {
        domainStreamPrefixes.contains { stream.hasPrefix($0) }
    }

    /// Whether `type` is the name of a domain event type.
    public static func isDomainType(_ type: String) -> Bool { domainTypes.contains(type) }

    /// How the domain sees one stored (or proposed) event.
    public enum Classification: Sendable {
        /// A domain event, decoded, in its own stream.
        case domain(DomainEvent)
        /// Not the domain's: another type in another stream. Readers of the domain pass over it.
        case foreign
        /// In the domain's streams or of a domain type, but the domain cannot read it; `reason` says why.
        case unreadable(reason: String)
    }

    /// Classifies an event by its stream, type, schema version and payload.
    public static func classify(
        stream: String, type: String, schemaVersion: UInt16, payload: [UInt8]
    ) -> Classification {
        let domainStream = isDomainStream(stream)
        guard domainStream || isDomainType(type) else { return .foreign }
        guard isDomainType(type) else {
            return .unreadable(reason: "`\(type)` is not a domain event type, but `\(stream)` is a domain stream")
        }
        let event: DomainEvent
        do {
            event = try DomainEvent.decode(type: type, schemaVersion: schemaVersion, payload: payload)
        } catch {
            return .unreadable(reason: "its payload is not a \(type) v\(schemaVersion) payload (\(error))")
        }
        guard event.stream.rawValue == stream else {
            return .unreadable(reason: "a \(type) of `\(event.stream.rawValue)` does not belong in `\(stream)`")
        }
        return .domain(event)
    }

    /// Why a raw append of this event is refused, or `nil` when it is admitted (foreign, or a readable domain
    /// event in its own stream).
    public static func refusal(stream: String, type: String, schemaVersion: UInt16, payload: [UInt8]) -> String? {
        guard
            case .unreadable(let reason) = classify(
                stream: stream, type: type, schemaVersion: schemaVersion, payload: payload)
        else { return nil }
        return "the domain could not read this event: \(reason); domain events are written by `cumulus import` "
            + "(commands), raw appends only into other streams with other types"
    }
}

/// What a reader of the domain passed over: events it could not decode.
public struct SkippedEvents: Hashable, Sendable, CustomStringConvertible {
    /// Events of a domain type or in a domain stream that could not be decoded.
    public private(set) var unreadable = 0
    /// Events of other types in other streams (not the domain's).
    public private(set) var foreign = 0
    /// The first few unreadable events' positions (at most ``maximumListed``).
    public private(set) var unreadablePositions: [UInt64] = []
    /// How many positions are kept.
    public static let maximumListed = 10

    /// Nothing skipped yet.
    public init() {}

    /// Counts one event that could not be decoded, with the decoder's error.
    public mutating func record(position: UInt64, stream: String, type: String, error: PayloadDecodingError) {
        if case .unknownEventType = error, !DomainAdmission.isDomainStream(stream) {
            foreign += 1
            return
        }
        unreadable += 1
        if unreadablePositions.count < Self.maximumListed { unreadablePositions.append(position) }
    }

    /// Adds another count.
    public mutating func add(_ other: SkippedEvents) {
        unreadable += other.unreadable
        foreign += other.foreign
        for position in other.unreadablePositions where unreadablePositions.count < Self.maximumListed {
            unreadablePositions.append(position)
        }
    }

    /// e.g. `2 unreadable events skipped (positions 1, 7)`, or `no unreadable events`.
    public var description: String {
        guard unreadable > 0 else { return "no unreadable events" }
        let listed = unreadablePositions.map(String.init).joined(separator: ", ")
        let more = unreadable > unreadablePositions.count ? ", …" : ""
        return "\(unreadable) unreadable event(s) skipped (position \(listed)\(more))"
    }
}
