import ArgumentParser
import CumulusCommands
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

    @Flag(
        name: .customLong("load-all-projections"),
        help: .hidden  // the benchmark's baseline: the approach before kept state
    )
    var loadAllProjections = false

    /// Opens the log read-only and catches `projections` up in memory from their checkpoints, saving nothing; with
    /// `--load-all-projections`, the approach before kept state (all five, opened for writing, checkpoints saved).
    func load(
        _ data: DataDirectoryOptions, _ projections: [any Projection]
    ) async throws -> (
        any ClosableStore, ProjectionSet
    ) {
        if loadAllProjections { return try await ProjectionLoader.loadAll(data, asOf: try point()) }
        let store = try await data.openStore(readOnly: true)
        do {
            let (set, _) = try await ProjectionLoader.load(
                store, projections: projections, asOf: try point(), validAt: try validInstant(), save: false)
            return (store, set)
        } catch {
            store.close()
            throw error
        }
    }

    @Option(
        name: .customLong("valid-at"),
        help: ArgumentHelp(
            "What was true at this time (ISO 8601, occurredAt: when things happened at the source), by everything "
                + "the log holds (or held --as-of).")
    )
    var validAt: String?

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

    /// The `--valid-at` instant, if given.
    func validInstant() throws -> Timestamp? {
        guard let validAt else { return nil }
        guard let time = Timestamp(iso8601: validAt) else {
            throw CommandFailure("--valid-at '\(validAt)' is not an ISO 8601 time")
        }
        return time
    }

    /// The instant open rows and elapsed times are measured to: the as-of time, or now.
    func instant() throws -> Timestamp {
        if case .recordedAt(let time) = try point() { return time }
        return .now
    }
}

/// Catches projections up with the log from their checkpoints, with a progress line. Queries pass only the
/// projections they read and `save: false` (they open the log read-only and change nothing); `rebuild` and
/// `demo` save the new checkpoints. A checkpoint that cannot be used (another code version, damaged bytes) is
/// named on standard error with the reason, and that projection is folded from position 0.
enum ProjectionLoader {
    static func load(
        _ store: any EventStore,
        projections: [any Projection]? = nil,
        asOf: AsOf? = nil,
        validAt: Timestamp? = nil,
        rebuilding: Set<String> = [],
        save: Bool,
        label: String = "catching up projections"
    ) async throws -> (ProjectionSet, ProjectionCatchUp.Report) {
        if case .position(let position) = asOf {
            // The log has never stood at a position past its end, and the view as of it would change as it grows.
            let head = try await store.lastPosition()
            if let past = GlobalPosition.pastTheEnd(position.rawValue, head: head, named: "--as-of") {
                throw CommandFailure(past + "; give a position up to \(head), or a time")
            }
        }
        var set = projections.map(ProjectionSet.init) ?? ProjectionSet.standard()
        let progress = ProgressLine(label, total: nil)
        let report: ProjectionCatchUp.Report
        do throws(ProjectionCatchUp.Failure) {
            report = try await ProjectionCatchUp.run(
                &set, from: store, asOf: asOf, validAt: validAt, rebuilding: rebuilding,
                logger: (store as? LMDBEventStore)?.logger ?? LMDBEventStore.silentLogger
            ) {
                done, total in
                progress.setTotal(total)
                progress.update(done)
            }
            for (name, reason) in report.discarded.sorted(by: { $0.key < $1.key }) {
                StandardError.write("cumulus: projection \(name): \(reason); rebuilding it from position 0\n")
            }
            if save && asOf == nil && validAt == nil && report.eventsApplied > 0 {
                try await ProjectionCatchUp.save(set, to: store)
            }
        } catch {
            throw CommandFailure(error.description)
        }
        if report.eventsApplied > 0 { progress.finish(report.eventsApplied) }
        if report.skipped.unreadable > 0 {
            StandardError.write("cumulus: note: \(report.skipped); `cumulus verify` lists them\n")
        }
        return (set, report)
    }

    /// The approach before kept state, kept as the benchmark's baseline (`--load-all-projections`): the log opened
    /// for writing, all five projections caught up, and their checkpoints saved when the log had moved on.
    static func loadAll(_ data: DataDirectoryOptions, asOf: AsOf?) async throws -> (any ClosableStore, ProjectionSet) {
        let store = try await data.openStore()
        let (set, _) = try await load(store, asOf: asOf, save: true)
        return (store, set)
    }
}

/// Loads the write model from its checkpoint, catches it up with the log and saves it again: what `rebuild` and
/// `demo` do so that the next `import` starts where the log is.
enum WriteModelKeeper {
    static func advance(_ store: any EventStore, fromZero: Bool) async throws -> WriteModel.Restore {
        let handler = CommandHandler(store: store)
        do throws(CommandError) {
            let outcome = fromZero ? WriteModel.Restore.noCheckpoint : try await handler.restoreCheckpoint()
            if outcome.wasDiscarded { StandardError.write("cumulus: \(outcome)\n") }
            try await handler.catchUp()
            // Saved unless the checkpoint was already at the end of the log.
            if outcome != .restored(position: await handler.currentModel.position) {
                try await handler.saveCheckpoint()
            }
            return outcome
        } catch {
            throw CommandFailure(error.description)
        }
    }
}

struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Bring every projection and the write model up to date; rebuild the named ones (or --all) from 0.",
        discussion: """
            Projections: current-state, licence-counters, user-state-report, time-in-state, audit, and the write model
            (write-model) that import decides against. Without names, each resumes from its checkpoint, and one whose
            code version changed or whose checkpoint is damaged is rebuilt from 0 automatically. This is the command
            that advances the checkpoints: queries (state, audit, report) catch up in memory and save nothing.
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
            for name in projections where !known.contains(name) && name != WriteModel.checkpointName {
                throw CommandFailure(
                    "unknown projection '\(name)'; known: \((known + [WriteModel.checkpointName]).joined(separator: ", "))"
                )
            }
            let store = try await data.openStore()
            defer { store.close() }
            let clock = ContinuousClock()
            let started = clock.now
            let (set, report) = try await ProjectionLoader.load(
                store, rebuilding: all ? Set(known) : Set(projections), save: true, label: "rebuilding")
            let model = try await WriteModelKeeper.advance(
                store, fromZero: all || projections.contains(WriteModel.checkpointName))
            let seconds = DemoCommand.seconds(clock.now - started)
            for name in known {
                if let position = report.restored[name] {
                    print("\(name): resumed after position \(position)")
                } else {
                    print("\(name): rebuilt from position 0")
                }
            }
            if case .restored(let position) = model {
                print("\(WriteModel.checkpointName): resumed after position \(position)")
            } else {
                print("\(WriteModel.checkpointName): rebuilt from position 0")
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
        abstract:
            "Show the state of a tenant, OU, service or user (as JSON): now, as the log stood at a position or time "
            + "(--as-of), or as it was at a time of the source (--valid-at); the two combine."
    )

    @OptionGroup var data: DataDirectoryOptions
    @OptionGroup var read: ReadOptions

    @Argument(help: "tenant, ou, service or user.")
    var kind: EntityKind

    @Argument(help: "The entity's id.")
    var id: String

    func run() async throws {
        try await reporting {
            let reader = try read.reader()
            let (store, set) = try await read.load(data, [CurrentStateProjection()])
            defer { store.close() }
            guard let current = set.projection(CurrentStateProjection.self) else {
                throw CommandFailure("no current state")
            }
            let tenant: Tenant?
            let render: (StateJSON) -> JSONNode
            switch kind {
            case .tenant:
                guard let id = TenantID(string: id), let found = current.tenants[id] else { throw notFound() }
                tenant = found
                render = { $0.tenant(found) }
            case .ou:
                guard let id = OUID(string: id), let found = current.organisationUnits[id] else { throw notFound() }
                tenant = current.tenants[found.tenant]
                render = { $0.organisationUnit(found) }
            case .service:
                guard let id = ServiceID(string: id), let found = current.services[id] else { throw notFound() }
                tenant = current.tenants[found.tenant]
                render = { $0.service(found) }
            case .user:
                guard let id = UserID(string: id), let found = current.users[id] else { throw notFound() }
                tenant = current.tenants[found.tenant]
                render = { $0.user(found) }
            }
            let privacy = try ReadAccess.checkAdministrativeRead(reader, tenant: tenant)
            print(render(StateJSON(partnerView: privacy, current: current)).rendered())
        }
    }

    private func notFound() -> CommandFailure {
        CommandFailure(
            "no \(kind.rawValue) with id '\(id)'" + (read.asOf.map { " as of \($0)" } ?? "")
                + (read.validAt.map { " valid at \($0)" } ?? ""))
    }
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
            try format.check(allowed: OutputFormat.tabular, for: "audit")
            let reader = try read.reader()
            let (store, set) = try await read.load(data, [CurrentStateProjection(), AuditProjection()])
            defer { store.close() }
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
            let view = try ReadAccess.checkAdministrativeRead(reader, tenant: tenant)
            let entries = audit.entries(for: entity).map(view.apply(to:))
            format.emit(ReportTable.audit(entries), title: "audit of \(entity)")
        }
    }
}

/// How a report is printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json, svg, html

    /// The formats every table can be written in; charts (svg, html) only where a report draws one.
    static let tabular: [OutputFormat] = [.table, .csv, .json]

    func render(_ table: ReportTable, title: String) -> String {
        switch self {
        case .table, .svg, .html: return table.textTable()
        case .csv: return table.csv()
        case .json: return table.json()
        }
    }

    /// Writes the table to standard output as it is rendered: CSV ends with its one CRLF, nothing added after it.
    func emit(_ table: ReportTable, title: String) {
        print(render(table, title: title), terminator: "")
    }

    /// Refuses a format `report` cannot produce, naming the ones it can.
    /// - Throws: ``CommandFailure`` (exit 1).
    func check(allowed: [OutputFormat], for report: String) throws {
        guard !allowed.contains(self) else { return }
        let names = allowed.map(\.rawValue)
        let list = names.dropLast().joined(separator: ", ") + (names.count > 1 ? " or " : "") + (names.last ?? "")
        throw CommandFailure("--format \(rawValue) is not available for \(report); use \(list)")
    }
}
