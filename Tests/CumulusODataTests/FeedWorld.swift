import CumulusDomain
import CumulusLog
import CumulusOData
import CumulusProjections
import Foundation

func id(_ number: Int) -> UUID { UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", number))! }

/// Microseconds `minutes` after 2026-11-23T08:00:00Z.
func minute(_ minutes: Double) -> Int64 { 1_795_420_800_000_000 + Int64(minutes * 60_000_000) }

/// A small world as a list of recorded events, and snapshots of it as of any position.
struct FeedWorld {
    static let tenant = TenantID(id(1))
    static let root = OUID(id(2))
    static let partner = PartnerID(id(20))
    static let names = ["Anna Muster", "Ben Keller", "Chloé Dubois", "Dario Rossi", "Eva Lind"]
    static func user(_ index: Int) -> UserID { UserID(id(100 + index)) }

    var events: [RecordedEvent] = []

    mutating func append(_ event: DomainEvent, at occurredAt: Int64) {
        events.append(
            RecordedEvent(
                id: EventID(UUID()), stream: try! StreamName(event.stream.rawValue),
                streamVersion: StreamVersion(UInt64(events.count + 1)),
                position: GlobalPosition(UInt64(events.count + 1)), type: event.typeName,
                schemaVersion: event.schemaVersion, occurredAt: Timestamp(microsecondsSinceEpoch: occurredAt),
                recordedAt: Timestamp(microsecondsSinceEpoch: occurredAt), actor: "systemAdmin", correlationID: nil,
                causationID: nil, payload: event.encodePayload()))
    }

    mutating func addUser(_ index: Int, at time: Int64) {
        let user = Self.user(index)
        append(
            .userCreated(
                UserCreated(
                    user: user, tenant: Self.tenant, ou: Self.root, upn: PersonalData("u\(index)@contoso.com"),
                    displayName: PersonalData(Self.names[index % Self.names.count]))), at: time)
        append(.ouContentAdded(OUContentAdded(ou: Self.root, content: .user(user))), at: time)
    }

    static func standard(userCount: Int = 5) -> FeedWorld {
        var world = FeedWorld()
        world.append(
            .tenantCreated(
                TenantCreated(
                    tenant: tenant, name: "Contoso", o365Domain: try! DNSName("contoso.onmicrosoft.com", field: "d"),
                    azureTenantID: id(99), partner: partner, rootOU: root, widgetKey: id(98), state: .active)),
            at: minute(0))
        world.append(.ouCreated(OUCreated(ou: root, tenant: tenant, parent: nil, name: "Root")), at: minute(0))
        world.append(
            .licenceContingentSet(LicenceContingentSet(tenant: tenant, kind: .advancedRouting, contingent: 1)),
            at: minute(0))
        world.append(
            .dataPrivacySettingsChanged(
                DataPrivacySettingsChanged(
                    tenant: tenant,
                    settings: DataPrivacySettings(
                        allowPartnerSeeUserIdentifiers: false, persistUserStatesInReporting: true,
                        showTimeInState: true))), at: minute(0))
        let hotline = ServiceID(id(5))
        world.append(
            .serviceProvisioned(
                ServiceProvisioned(
                    service: hotline, tenant: tenant, ou: root, name: "Hotline", type: .contactCenter,
                    source: .backend, provisionedBy: nil)), at: minute(0))
        world.append(.ouContentAdded(OUContentAdded(ou: root, content: .service(hotline))), at: minute(0))
        for index in 0..<userCount { world.addUser(index, at: minute(1)) }
        let states = ["Available", "Break", "ACW", "Available"]
        let presences: [(Availability, Activity)] = [
            (.available, .available), (.busy, .inACall), (.away, .away), (.available, .available),
        ]
        for step in 0..<12 {
            for index in 0..<userCount {
                let at = minute(Double(10 + step * 7 + index))
                if (step + index) % 2 == 0 {
                    let state = states[(step + index) % states.count]
                    world.append(
                        .userStateChanged(
                            UserStateChanged(
                                user: user(index), state: UserStateName(name: state), responsibilityProfile: nil)),
                        at: at)
                } else {
                    let presence = presences[(step * 3 + index) % presences.count]
                    world.append(
                        .presenceChanged(
                            PresenceChanged(user: user(index), availability: presence.0, activity: presence.1)),
                        at: at)
                }
            }
        }
        return world
    }

    /// The projections as of `position` (all events by default), measured to `instant`.
    func snapshot(position: UInt64? = nil, instant: Int64 = minute(120)) throws -> ODataSnapshot {
        var set = ProjectionSet.standard()
        let upTo = position ?? UInt64(events.count)
        try set.apply(contentsOf: events.filter { $0.position.rawValue <= upTo })
        return ODataSnapshot(
            position: upTo, instant: Timestamp(microsecondsSinceEpoch: instant),
            currentState: set.projection(CurrentStateProjection.self)!,
            licences: set.projection(LicenceCountersProjection.self)!,
            report: set.projection(UserStateReportProjection.self)!,
            timeInState: set.projection(TimeInStateProjection.self)!)
    }
}
