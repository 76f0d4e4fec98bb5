import ArgumentParser
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusProjections
import Foundation

/// Options every read of a projection shares: who reads, and as of when.
struct ReadOptions: ParsableArguments {
    @Option(help: "Who reads, as an actor (systemAdmin, partnerAdmin:<id>, tenantAdmin:<id>, userSupervisor:<id>, …).")
    var actor: String = "systemAdmin"

    @Option(
        name: .customLong("as-of"),
        help: "Build the view as of a log position (a number) or a time (ISO 8601: what the log had recorded then)."
    )
    var asOf: String?

    func reader() throws -> Actor {
        guard let actor = Actor(canonical: actor) else {
            throw CommandFailure("unknown actor '\(actor)': use systemAdmin, partnerAdmin:<id>, tenantAdmin:<id>, …")
        }
        return actor
    }

    func point() throws -> AsOf? {
        guard let asOf else { return nil }
        if let position = UInt64(asOf) { return .position(GlobalPosition(position)) }
        if let time = Timestamp(iso8601: asOf) { return .recordedAt(time) }
        throw CommandFailure("--as-of '\(asOf)' is neither a log position nor an ISO 8601 time")
    }

    /// The instant open rows and elapsed times are measured to: the as-of time, or now.
    func instant() throws -> Timestamp {
        if case .recordedAt(let time) = try point() { return time }
        return .now
    }
}

/// Catches the standard projections up with the log (restoring checkpoints), with a progress line, and
/// saves new checkpoints unless the view is as of an earlier point.
enum ProjectionLoader {
    static func load(
        _ store: any EventStore,
        asOf: AsOf? = nil,
        rebuilding: Set<String> = [],
        label: String = "catching up projections"
    ) async throws -> (ProjectionSet, ProjectionCatchUp.Report) {
        var set = ProjectionSet.standard()
        let progress = ProgressLine(label, total: nil)
        let report: ProjectionCatchUp.Report
        do throws(ProjectionCatchUp.Failure) {
            report = try await ProjectionCatchUp.run(&set, from: store, asOf: asOf, rebuilding: rebuilding) {
                done, total in
                progress.setTotal(total)
                progress.update(done)
            }
            if asOf == nil && report.eventsApplied > 0 { try await ProjectionCatchUp.save(set, to: store) }
        } catch {
            throw CommandFailure(error.description)
        }
        if report.eventsApplied > 0 { progress.finish(report.eventsApplied) }
        return (set, report)
    }
}

struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Bring every projection up to date; rebuild the named ones (or --all) from position 0.",
        discussion: """
            Projections: current-state, licence-counters, user-state-report, time-in-state, audit. Without names, each
            resumes from its checkpoint, and one whose code version changed is rebuilt from 0 automatically.
            """
    )

    @OptionGroup var data: DataDirectoryOptions

    @Argument(help: "Projections to rebuild from position 0.")
    var projections: [String] = []

    @Flag(help: "Rebuild every projection from position 0.")
    var all = false

    func run() async throws {
        try await reporting {
            let known = ProjectionSet.standard().projections.map(\.name)
            for name in projections where !known.contains(name) {
                throw CommandFailure("unknown projection '\(name)'; known: \(known.joined(separator: ", "))")
            }
            let store = try await data.openStore()
            defer { store.close() }
            let clock = ContinuousClock()
            let started = clock.now
            let (set, report) = try await ProjectionLoader.load(
                store, rebuilding: all ? Set(known) : Set(projections), label: "rebuilding")
            let seconds = DemoCommand.seconds(clock.now - started)
            for name in known {
                if let position = report.restored[name] {
                    print("\(name): resumed after position \(position)")
                } else {
                    print("\(name): rebuilt from position 0")
                }
            }
            print(
                "applied \(report.eventsApplied) events in \(String(format: "%.2f", seconds)) s "
                    + "(\(ProgressLine.formatRate(Double(report.eventsApplied) / max(seconds, 1e-9))) events/s); "
                    + "projections at position \(set.position)")
        }
    }
}

/// Which entity a `state` or `audit` command is about.
enum EntityKind: String, ExpressibleByArgument, CaseIterable {
    case tenant, ou, service, user
}

struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Show the current state of a tenant, OU, service or user (as JSON), or as of a position or time."
    )

    @OptionGroup var data: DataDirectoryOptions
    @OptionGroup var read: ReadOptions

    @Argument(help: "tenant, ou, service or user.")
    var kind: EntityKind

    @Argument(help: "The entity's id.")
    var id: String

    func run() async throws {
        try await reporting {
            let store = try await data.openStore()
            defer { store.close() }
            let reader = try read.reader()
            let (set, _) = try await ProjectionLoader.load(store, asOf: try read.point())
            guard let current = set.projection(CurrentStateProjection.self) else {
                throw CommandFailure("no current state")
            }
            let value: Any
            let tenant: Tenant?
            switch kind {
            case .tenant:
                guard let id = TenantID(string: id), let found = current.tenants[id] else { throw notFound() }
                tenant = found
                value = TenantView(tenant: found, current: current)
            case .ou:
                guard let id = OUID(string: id), let found = current.organisationUnits[id] else { throw notFound() }
                tenant = current.tenants[found.tenant]
                value = found
            case .service:
                guard let id = ServiceID(string: id), let found = current.services[id] else { throw notFound() }
                tenant = current.tenants[found.tenant]
                value = ServiceView(
                    service: found, members: current.members(of: id).count,
                    routableNow: current.routableCount(of: id),
                    licences: current.licences(of: id).map(\.description).sorted())
            case .user:
                guard let id = UserID(string: id), let found = current.users[id] else { throw notFound() }
                tenant = current.tenants[found.tenant]
                value = found
            }
            let privacy = try ReadAccess.checkAdministrativeRead(reader, tenant: tenant)
            print(StateJSON(partnerView: privacy).render(value))
        }
    }

    private func notFound() -> CommandFailure {
        CommandFailure("no \(kind.rawValue) with id '\(id)'" + (read.asOf.map { " as of \($0)" } ?? ""))
    }
}

/// A tenant with what hangs off it, for `cumulus state tenant`.
struct TenantView {
    let tenant: Tenant
    let organisationUnits: [String]
    let services: Int
    let users: Int

    init(tenant: Tenant, current: CurrentStateProjection) {
        self.tenant = tenant
        organisationUnits = current.organisationUnits(in: tenant.id).map { "\($0.name) (\($0.id))" }
        services = current.services(in: tenant.id).count
        users = current.users(in: tenant.id).count
    }
}

/// A service with its members and how many are routable now.
struct ServiceView {
    let service: Service
    let members: Int
    let routableNow: Int
    let licences: [String]
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Every change to a tenant, OU, service or user: who, when, what changed (old → new), secrets masked."
    )

    @OptionGroup var data: DataDirectoryOptions
    @OptionGroup var read: ReadOptions

    @Argument(help: "tenant, ou, service or user.")
    var kind: EntityKind

    @Argument(help: "The entity's id.")
    var id: String

    @Option(help: "table, csv or json.")
    var format: OutputFormat = .table

    func run() async throws {
        try await reporting {
            let store = try await data.openStore()
            defer { store.close() }
            let reader = try read.reader()
            let (set, _) = try await ProjectionLoader.load(store, asOf: try read.point())
            guard let audit = set.projection(AuditProjection.self),
                let current = set.projection(CurrentStateProjection.self)
            else { throw CommandFailure("no audit projection") }
            let entity: AuditedEntity
            let tenant: Tenant?
            switch kind {
            case .tenant:
                guard let id = TenantID(string: id) else { throw CommandFailure("'\(id)' is not an id") }
                entity = .tenant(id)
                tenant = current.tenants[id]
            case .ou:
                guard let id = OUID(string: id) else { throw CommandFailure("'\(id)' is not an id") }
                entity = .organisationUnit(id)
                tenant = current.organisationUnits[id].flatMap { current.tenants[$0.tenant] }
            case .service:
                guard let id = ServiceID(string: id) else { throw CommandFailure("'\(id)' is not an id") }
                entity = .service(id)
                tenant = current.services[id].flatMap { current.tenants[$0.tenant] }
            case .user:
                guard let id = UserID(string: id) else { throw CommandFailure("'\(id)' is not an id") }
                entity = .user(id)
                tenant = current.users[id].flatMap { current.tenants[$0.tenant] }
            }
            guard tenant != nil else { throw CommandFailure("no \(kind.rawValue) with id '\(id)'") }
            _ = try ReadAccess.checkAdministrativeRead(reader, tenant: tenant)
            print(format.render(ReportTable.audit(audit.entries(for: entity)), title: "audit of \(entity)"))
        }
    }
}

/// How a report is printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json, svg, html

    func render(_ table: ReportTable, title: String) -> String {
        switch self {
        case .table, .svg, .html: return table.textTable()
        case .csv: return table.csv()
        case .json: return table.json()
        }
    }
}
