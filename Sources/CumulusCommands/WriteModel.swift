public import CumulusDomain
public import CumulusLog

/// The write side's view of the log: every aggregate's state, folded from the log, and every stream's
/// version — what a command is decided against and what its append expects.
///
/// It is caught up from the log (never from what a handler believes it wrote), so several handlers and
/// several processes can write at once: the log's expected-version check refuses a decision made on a
/// stale view, and the handler catches up and decides again. Copying it is cheap (copy-on-write
/// dictionaries), which the importer uses to decide a batch speculatively.
///
/// It is kept like a projection: ``checkpoint()`` saves it with ``codeVersion`` in the log's checkpoints table
/// under ``checkpointName``, and `CommandHandler.restoreCheckpoint()` loads it back so that a handler catches up only with what came
/// after (see `WriteModel+Checkpoint.swift`). Equal models encode to equal bytes.
public struct WriteModel: Hashable, Sendable {
    /// The last log position folded in.
    public internal(set) var position = GlobalPosition.start
    /// Live tenants' names, domains and Azure ids (platform-wide).
    public internal(set) var registry = TenantRegistry()
    /// Per tenant: its aggregates, as the domain's decisions read them.
    public internal(set) var tenants: [TenantID: DecisionContext] = [:]
    var ouTenant: [OUID: TenantID] = [:]
    var serviceTenant: [ServiceID: TenantID] = [:]
    var userTenant: [UserID: TenantID] = [:]
    var versions: [String: UInt64] = [:]

    /// An empty model, before the first event.
    public init() {}

    /// The version of a stream as this model has seen it.
    public func version(of stream: AggregateStream) -> StreamVersion {
        StreamVersion(versions[stream.rawValue] ?? 0)
    }

    /// Events the model passed over because the domain cannot decode them (docs/domain.md, *Raw appends*).
    public private(set) var skipped = SkippedEvents()

    /// Folds one recorded event; events at or before ``position`` are skipped (already folded).
    ///
    /// An event the domain cannot decode (a foreign type, or a payload it cannot read) is passed over and counted
    /// in ``skipped``; its stream's version still counts, so appends to that stream expect the right version.
    public mutating func apply(_ recorded: RecordedEvent) {
        guard recorded.position > position else { return }
        do {
            let event = try DomainEvent.decode(
                type: recorded.type,
                schemaVersion: recorded.schemaVersion,
                payload: recorded.payload
            )
            fold(event)
        } catch {
            skipped.record(
                position: recorded.position.rawValue, stream: recorded.stream.rawValue, type: recorded.type,
                error: error)
        }
        versions[recorded.stream.rawValue] = recorded.streamVersion.rawValue
        position = recorded.position
    }

    /// Folds events the caller decided but that are not yet read back from the log (speculation for a
    /// batch); stream versions advance as the append will make them. `changes`: the decision's
    /// ``Decision/changes``, grouped once by the caller for both the speculation and the appends.
    /// - Returns: each change's stream version before it (what its append expects), looked up once per stream
    ///   together with the advance (by `perf`, the lookups by `String` were a visible part of an import's deciding
    ///   when the appends and the speculation each made their own).
    mutating func speculate(_ decision: Decision, changes: [StreamChange]) -> [StreamVersion] {
        var before: [StreamVersion] = []
        before.reserveCapacity(changes.count)
        for change in changes {
            before.append(
                StreamVersion(Self.advance(&versions[change.stream.rawValue, default: 0], by: change.events.count)))
        }
        for event in decision.events { fold(event) }
        return before
    }

    /// Adds `count` to `version` in place; returns the version before.
    private static func advance(_ version: inout UInt64, by count: Int) -> UInt64 {
        defer { version += UInt64(count) }
        return version
    }

    private mutating func fold(_ event: DomainEvent) {
        registry = TenantRegistry.evolve(registry, event)
        guard let tenant = tenant(of: event) else { return }
        // Changed in place through the dictionary's storage: no copy of the context, no removal and re-insertion
        // of its key (the dictionaries inside stay uniquely referenced, so they change in place too).
        tenants[tenant, default: DecisionContext()].apply(event)
    }

    private mutating func tenant(of event: DomainEvent) -> TenantID? {
        switch event {
        case .tenantCreated(let created): return created.tenant
        case .ouCreated(let created):
            ouTenant[created.ou] = created.tenant
            return created.tenant
        case .serviceProvisioned(let provisioned):
            serviceTenant[provisioned.service] = provisioned.tenant
            return provisioned.tenant
        case .userCreated(let created):
            userTenant[created.user] = created.tenant
            return created.tenant
        case .presenceChanged(let change): return userTenant[change.user]
        case .userStateChanged(let change): return userTenant[change.user]
        default: break
        }
        let stream = event.stream.rawValue
        guard let dash = stream.firstIndex(of: "-") else { return nil }
        let kind = stream[..<dash]
        let id = String(stream[stream.index(after: dash)...])
        switch kind {
        case "tenant", "licences", "upns", "outree": return TenantID(string: id)
        case "ou": return OUID(string: id).flatMap { ouTenant[$0] }
        case "service": return ServiceID(string: id).flatMap { serviceTenant[$0] }
        case "user": return UserID(string: id).flatMap { userTenant[$0] }
        default: return nil
        }
    }

    /// The context a command is decided in: its tenant's aggregates plus the platform-wide registry.
    public func context(for command: Command) -> DecisionContext {
        var context = tenant(of: command).flatMap { tenants[$0] } ?? DecisionContext()
        context.registry = registry
        return context
    }

    /// Decides `request` in the context ``context(for:)`` would give, without copying the tenant's aggregates:
    /// the platform-wide registry is swapped into the tenant's stored context for the decision and back out
    /// after it (a copy of the context was a tenth of the import's time in the handler, by `perf`).
    public mutating func decide(_ request: CommandRequest) throws(DomainError) -> Decision {
        guard let tenant = tenant(of: request.command), let index = tenants.index(forKey: tenant) else {
            return try request.decide(in: DecisionContext(registry: registry))
        }
        // The stored context is reached through the dictionary's in-place accessor: reading it with the getter
        // (`tenants.values[index]` as an argument) copied the context and released the copy after every decision.
        return try Self.decide(request, in: &tenants.values[index], registry: &registry)
    }

    /// Decides `request` in `context` with `registry` swapped into it for the decision.
    private static func decide(
        _ request: CommandRequest, in context: inout DecisionContext, registry: inout TenantRegistry
    ) throws(DomainError) -> Decision {
        swap(&context.registry, &registry)
        defer { swap(&context.registry, &registry) }
        return try request.decide(in: context)
    }

    /// The tenant a command concerns, when the model knows it.
    public func tenant(of command: Command) -> TenantID? {
        if let tenant = command.tenantID { return tenant }
        if let ou = command.ouID { return ouTenant[ou] }
        if let service = command.serviceID { return serviceTenant[service] }
        if let user = command.userID { return userTenant[user] }
        return nil
    }
}
