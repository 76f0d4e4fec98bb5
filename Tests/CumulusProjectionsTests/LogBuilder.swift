import CumulusDomain
import CumulusLog
import CumulusProjections
import Foundation

/// Turns domain events into recorded events with increasing positions, the way the log would store them.
struct LogBuilder {
    private(set) var events: [RecordedEvent] = []
    /// `recordedAt` of the next event when none is given: one second after the previous.
    var clock: Int64 = 1_800_000_000_000_000

    /// Appends `event`, which happened at `occurredAt` (microseconds), by `actor`.
    @discardableResult
    mutating func append(
        _ event: DomainEvent, at occurredAt: Int64, by actor: String = "systemAdmin", recordedAt: Int64? = nil
    ) -> RecordedEvent {
        clock = recordedAt ?? (clock + 1_000_000)
        let recorded = RecordedEvent(
            id: EventID(UUID()), stream: try! StreamName(event.stream.rawValue),
            streamVersion: StreamVersion(UInt64(events.count + 1)), position: GlobalPosition(UInt64(events.count + 1)),
            type: event.typeName, schemaVersion: event.schemaVersion,
            occurredAt: Timestamp(microsecondsSinceEpoch: occurredAt),
            recordedAt: Timestamp(microsecondsSinceEpoch: clock),
            actor: actor, correlationID: nil, causationID: nil, payload: event.encodePayload())
        events.append(recorded)
        return recorded
    }

    /// Appends several events that happened at the same instant.
    mutating func append(_ list: [DomainEvent], at occurredAt: Int64, by actor: String = "systemAdmin") {
        for event in list { append(event, at: occurredAt, by: actor) }
    }

    /// The same facts logged twice after the same `setup`: in the order they happened (`ordered`) and in the
    /// order they arrived (`arrivals`, each with the instant it happened), both followed by `tail`.
    static func inOrderAndLate(
        setup: [(DomainEvent, Int64)], ordered: [(DomainEvent, Int64)], arrivals: [(DomainEvent, Int64)],
        tail: [(DomainEvent, Int64)] = []
    ) -> (inOrder: LogBuilder, late: LogBuilder) {
        var inOrder = LogBuilder()
        var late = LogBuilder()
        for (event, at) in setup + ordered + tail { inOrder.append(event, at: at) }
        for (event, at) in setup + arrivals + tail { late.append(event, at: at) }
        return (inOrder, late)
    }

    /// A standard projection set built from every event; users' streams are read from the same events.
    func rebuild() throws -> ProjectionSet {
        var set = ProjectionSet.standard()
        try set.apply(contentsOf: events, history: stream(of:))
        return set
    }

    /// The events of `user`'s stream, in stream order.
    func stream(of user: UserID) -> [RecordedEvent] {
        let name = AggregateStream.user(user).rawValue
        return events.filter { $0.stream.rawValue == name }
    }
}

/// Microseconds for a minute offset from a fixed base instant (2026-11-23T08:00:00Z).
func minute(_ value: Double) -> Int64 { base + Int64(value * 60_000_000) }
let base: Int64 = 1_795_420_800_000_000

func timestamp(_ minutes: Double) -> Timestamp { Timestamp(microsecondsSinceEpoch: minute(minutes)) }

func id(_ number: Int) -> UUID {
    UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", number))!
}

/// A small world: one tenant, an OU, a service, users; ids are fixed so expectations can name them.
enum World {
    static let tenant = TenantID(id(1))
    static let root = OUID(id(2))
    static let sales = OUID(id(3))
    static let hotline = ServiceID(id(4))
    static let anna = UserID(id(10))
    static let ben = UserID(id(11))
    static let carla = UserID(id(12))
    static let partner = PartnerID(id(20))

    static func creation() -> [DomainEvent] {
        [
            .tenantCreated(
                TenantCreated(
                    tenant: tenant, name: "Contoso", o365Domain: try! DNSName("contoso.onmicrosoft.com", field: "d"),
                    azureTenantID: id(99), partner: partner, rootOU: root, widgetKey: id(98), state: .trial)),
            .ouCreated(OUCreated(ou: root, tenant: tenant, parent: nil, name: "Root")),
            .licenceContingentSet(LicenceContingentSet(tenant: tenant, kind: .advancedRouting, contingent: 1)),
            .ouCreated(OUCreated(ou: sales, tenant: tenant, parent: root, name: "Sales")),
            .ouContentAdded(OUContentAdded(ou: root, content: .subOU(sales))),
        ]
    }

    static func user(_ user: UserID, _ name: String, upn: String) -> [DomainEvent] {
        [
            .userCreated(
                UserCreated(
                    user: user, tenant: tenant, ou: sales, upn: PersonalData(upn), displayName: PersonalData(name))),
            .ouContentAdded(OUContentAdded(ou: sales, content: .user(user))),
        ]
    }

    static func privacy(reporting: Bool, timeInState: Bool = true, userIdentifiers: Bool = false) -> DomainEvent {
        .dataPrivacySettingsChanged(
            DataPrivacySettingsChanged(
                tenant: tenant,
                settings: DataPrivacySettings(
                    allowPartnerSeeUserIdentifiers: userIdentifiers, persistUserStatesInReporting: reporting,
                    showTimeInState: timeInState)))
    }

    static func presence(_ user: UserID, _ availability: Availability, _ activity: Activity) -> DomainEvent {
        .presenceChanged(PresenceChanged(user: user, availability: availability, activity: activity))
    }

    static func state(_ user: UserID, _ name: String, profile: String? = nil) -> DomainEvent {
        .userStateChanged(
            UserStateChanged(user: user, state: UserStateName(name: name), responsibilityProfile: profile))
    }
}
