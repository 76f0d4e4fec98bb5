public import CumulusDomain
import CumulusLog
public import Foundation

/// A realistic world for `cumulus demo`, generated from a fixed seed: tenants with partners and OUs,
/// tens of services of all three types, thousands of licensed users, and a week of presence and
/// user-state changes with the noise real feeds have — bursts of identical updates, duplicate deliveries
/// (same event id), late events, and reporting switched off and on.
///
/// `cumulus demo` builds it; `cumulus-bench rebuild` uses the same world as its real-mix workload.
public struct DemoWorld: Sendable {
    /// A user of the world and its tenant.
    public struct User: Sendable {
        /// The user.
        public let id: UserID
        /// Its tenant.
        public let tenant: TenantID
    }

    /// The tenants, in creation order.
    public private(set) var tenants: [TenantID] = []
    /// The users, in creation order.
    public private(set) var users: [User] = []
    /// Monday 2026-11-16 00:00 UTC, in µs.
    public let weekStart: Int64 = 1_794_787_200_000_000
    /// Users per tenant.
    public let usersPerTenant: Int
    /// Tenants in the world.
    public let tenantCount: Int
    private var random: SplitMix64

    /// A world of `tenants` tenants with `usersPerTenant` users each, generated from `seed`.
    public init(tenants: Int = 4, usersPerTenant: Int = 800, seed: UInt64 = 2026) {
        self.tenantCount = tenants
        self.usersPerTenant = usersPerTenant
        self.random = SplitMix64(seed: seed)
    }

    private mutating func uuid() -> UUID {
        let high = random.next()
        let low = random.next()
        var bytes = withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { Array($0) }
        bytes[6] = 0x40 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    private mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
    private mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    /// The commands that set the world up, in order: tenants, settings, licences, OUs, services, users.
    public mutating func setUp() -> [CommandRequest] {
        let names = ["Contoso", "Fabrikam", "Northwind", "Tailspin", "Litware", "Adatum", "Woodgrove", "Proseware"]
        let partners = [PartnerID(uuid()), PartnerID(uuid())]
        let first = ["Anna", "Ben", "Chloé", "David", "Elif", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kim", "Lea"]
        let last = ["Muster", "Keller", "Rossi", "Meier", "Dubois", "Schmid", "Novak", "Weber", "Costa", "Huber"]
        var requests: [CommandRequest] = []
        var time = weekStart - 86_400_000_000 * 7
        func at(_ command: Command, _ actor: Actor = .systemAdmin) -> CommandRequest {
            time += 1_000_000
            return CommandRequest(command: command, actor: actor, occurredAt: time)
        }
        for index in 0..<tenantCount {
            let tenant = TenantID(uuid())
            tenants.append(tenant)
            let name = names[index % names.count] + (index >= names.count ? " \(index)" : "")
            let domain = name.lowercased().replacingOccurrences(of: " ", with: "") + ".onmicrosoft.com"
            let root = OUID(uuid())
            let partner = partners[index % partners.count]
            requests.append(
                at(
                    .createTenant(
                        tenant: tenant, name: name, o365Domain: domain, azureTenantID: uuid().uuidString.lowercased(),
                        partner: partner, rootOU: root, rootOUName: name, widgetKey: uuid())))
            requests.append(at(.changeTenantState(tenant: tenant, state: index == tenantCount - 1 ? .trial : .active)))
            requests.append(
                at(
                    .changeDataPrivacySettings(
                        tenant: tenant,
                        settings: DataPrivacySettings(
                            allowPartnerSeeUserIdentifiers: index % 2 == 0, persistUserStatesInReporting: true,
                            showTimeInState: index != 1))))
            requests.append(at(.setPresenceTrackingPermission(tenant: tenant, granted: true)))
            requests.append(
                at(
                    .changePresenceTrackingSettings(
                        tenant: tenant, enabled: true, account1: "presence@\(domain)", account2: nil)))
            let contingents: [(LicenceKind, Int)] = [
                (.advancedRouting, 6), (.enterpriseRouting, 3), (.contactCenter, 3),
                (.contactCenterUser, usersPerTenant - usersPerTenant / 16),
                (.attendantConsole, usersPerTenant / 10 + 1),
                (.transcription, usersPerTenant / 3 + 1),
            ]
            for (kind, contingent) in contingents {
                requests.append(at(.setLicenceContingent(tenant: tenant, kind: kind, contingent: contingent)))
            }
            var ous = [root]
            for ouName in ["Sales", "Support", "Billing"] {
                let ou = OUID(uuid())
                requests.append(at(.createOU(tenant: tenant, ou: ou, parent: root, name: ouName)))
                ous.append(ou)
            }
            var services: [ServiceID] = []
            let types: [ServiceType] = [
                .advancedRouting, .advancedRouting, .advancedRouting, .advancedRouting, .advancedRouting,
                .enterpriseRouting, .enterpriseRouting, .enterpriseRouting, .contactCenter, .contactCenter,
            ]
            for (offset, type) in types.enumerated() {
                let service = ServiceID(uuid())
                services.append(service)
                requests.append(
                    at(
                        .provisionService(
                            tenant: tenant, service: service,
                            name: "\(name) \(["Hotline", "Helpdesk", "Sales line"][offset % 3]) \(offset + 1)",
                            type: type, ou: ous[1 + offset % 3], source: .backend, owner: nil)))
                requests.append(
                    at(
                        .changeDistributionSettings(
                            service: service,
                            settings: DistributionSettings(
                                deliverWhileBusy: offset % 3 == 0, deliverWhileInMeeting: offset % 4 == 0,
                                deliverWhileAway: offset % 5 == 0))))
            }
            for number in 0..<usersPerTenant {
                let user = UserID(uuid())
                users.append(User(id: user, tenant: tenant))
                let given = pick(first)
                let family = pick(last)
                requests.append(
                    at(
                        .createUser(
                            tenant: tenant, user: user, upn: "\(ascii(given)).\(ascii(family))\(number)@\(domain)",
                            displayName: "\(given) \(family)", ou: ous[1 + number % 3])))
                if number < usersPerTenant - usersPerTenant / 16 {
                    requests.append(at(.assignUserLicence(user: user, kind: .contactCenterUser), .tenantAdmin(tenant)))
                }
                if number % 10 == 0 {
                    requests.append(at(.assignUserLicence(user: user, kind: .attendantConsole), .tenantAdmin(tenant)))
                }
                if number % 3 == 0 {
                    requests.append(at(.assignUserLicence(user: user, kind: .transcription), .tenantAdmin(tenant)))
                }
                requests.append(
                    at(
                        .assignMembership(
                            user: user, service: services[number % services.count],
                            role: number % 40 == 0 ? .teamOwner : .teamMember)))
            }
            // Licences cut below usage: the counter shows the overage as a negative availability.
            requests.append(
                at(.setLicenceContingent(tenant: tenant, kind: .transcription, contingent: usersPerTenant / 5)))
        }
        return requests
    }

    /// One day of feed (0 = Monday), in delivery order: presence and user-state changes of every user,
    /// with bursts, duplicates and late deliveries; on Wednesday noon the first tenant switches its
    /// user-state reporting off, and on Thursday morning on again.
    public mutating func feed(day: Int) -> [CommandRequest] {
        var deliveries: [(delivered: Int64, request: CommandRequest)] = []
        let dayStart = weekStart + Int64(day) * 86_400_000_000
        let weekend = day >= 5
        let availabilities: [(Availability, Activity)] = [
            (.available, .available), (.available, .available), (.busy, .inACall), (.busy, .inACall),
            (.busy, .inAMeeting), (.busy, .presenting), (.away, .away), (.beRightBack, .beRightBack),
            (.doNotDisturb, .doNotDisturb), (.availableIdle, .available),
        ]
        let states = ["Available", "Available", "Available", "Break", "Backoffice", "ACW", "ACW", "RONA"]
        let profiles = ["Sales", "Support", "Billing"]
        for user in users {
            if weekend && !chance(10) { continue }
            let shiftStart =
                dayStart + Int64(7 + Int(random.next() % 3)) * 3_600_000_000
                + Int64(random.next() % 3_600) * 1_000_000
            let shiftEnd = shiftStart + Int64(8) * 3_600_000_000
            var time = shiftStart
            let profile = pick(profiles)
            func deliver(_ request: CommandRequest, lateBy: Int64 = 0) {
                deliveries.append((request.occurredAt + lateBy + Int64(random.next() % 2_000_000), request))
            }
            deliver(request(user, .recordPresence(user: user.id, availability: .available, activity: .available), time))
            deliver(
                request(
                    user, .changeUserState(user: user.id, state: "Available", responsibilityProfile: profile),
                    time + 1_000_000)
            )
            while true {
                time += Int64(4 * 60 + Int(random.next() % (14 * 60))) * 1_000_000
                if time >= shiftEnd { break }
                let isPresence = chance(70)
                let command: Command
                if isPresence {
                    let (availability, activity) = pick(availabilities)
                    command = .recordPresence(user: user.id, availability: availability, activity: activity)
                } else {
                    command = .changeUserState(user: user.id, state: pick(states), responsibilityProfile: profile)
                }
                var main = request(user, command, time)
                if chance(2) {
                    // A duplicate delivery: the same event id again a little later; stored once.
                    main.eventID = uuid()
                    deliver(main, lateBy: Int64(1 + random.next() % 20) * 1_000_000)
                }
                // A late event: delivered up to half an hour after it happened, after later ones.
                deliver(main, lateBy: chance(3) ? Int64(60 + random.next() % 1_740) * 1_000_000 : 0)
                if isPresence && chance(8) {
                    // The Teams web client's burst of identical updates within seconds.
                    for copy in 1...(2 + Int(random.next() % 3)) {
                        deliver(request(user, command, time + Int64(copy) * 700_000))
                    }
                }
            }
            deliver(request(user, .recordPresence(user: user.id, availability: .offline, activity: .offWork), shiftEnd))
            deliver(
                request(
                    user, .changeUserState(user: user.id, state: "LoggedOut", responsibilityProfile: profile),
                    shiftEnd + 1_000_000))
        }
        if day == 2 || day == 3, let tenant = tenants.first {
            let switchTime = dayStart + (day == 2 ? 12 : 9) * 3_600_000_000
            let settings = DataPrivacySettings(
                allowPartnerSeeUserIdentifiers: true, persistUserStatesInReporting: day == 3, showTimeInState: true)
            deliveries.append(
                (
                    switchTime,
                    CommandRequest(
                        command: .changeDataPrivacySettings(tenant: tenant, settings: settings),
                        actor: .tenantAdmin(tenant), occurredAt: switchTime)
                ))
        }
        deliveries.sort { $0.delivered < $1.delivered }
        return deliveries.map(\.request)
    }

    private mutating func request(_ user: User, _ command: Command, _ time: Int64) -> CommandRequest {
        let actor: Actor
        if case .changeUserState = command { actor = .user(user.id) } else { actor = .presenceFeed(user.tenant) }
        return CommandRequest(command: command, actor: actor, occurredAt: time, eventID: chance(30) ? uuid() : nil)
    }
}

/// Lower-case ASCII for user principal names (`Chloé` → `chloe`).
private func ascii(_ name: String) -> String {
    name.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased()
}
