public import CumulusDomain
public import CumulusLog

/// The audit (domain.md §9): for a tenant, OU, service or user, every change — who, when, which event, and
/// what changed old → new at field level — with secrets masked.
///
/// It keeps its own current state to know the "old" side. Presence and user-state changes are not listed:
/// their history is the user-state report and time in state, and listing a week of feed events per agent would
/// make the audit proportional to the feed rather than to administrative changes.
public struct AuditProjection: Projection {
    /// `audit`.
    public static let name = "audit"
    /// Bumped when the derivation changes.
    public static let codeVersion: UInt32 = 3

    var model = CurrentStateProjection()
    var entries: [AuditedEntity: [AuditEntry]] = [:]

    /// No entries yet.
    public init() {}

    /// Folds one event, recording an entry per entity it changes.
    public mutating func apply(_ event: RecordedEvent, decoded: DomainEvent) {
        let entities = decoded.auditedEntities
        guard !entities.isEmpty else { return }
        let before = entities.map { AuditedFields.fields(of: $0, in: model) }
        model.apply(event, decoded: decoded)
        for (index, entity) in entities.enumerated() {
            var changes = AuditedFields.diff(before[index], AuditedFields.fields(of: entity, in: model))
            if let content = AuditedFields.contentChange(of: decoded) { changes.append(content) }
            entries[entity, default: []].append(
                AuditEntry(
                    entity: entity, position: event.position, occurredAt: event.occurredAt,
                    recordedAt: event.recordedAt, actor: event.actor, eventType: event.type, changes: changes))
        }
    }

    /// Folds a batch, passing over presence and user-state changes at once (they change nothing here).
    public mutating func apply(batch: ArraySlice<DecodedEvent>) { applyPassingOverFeedFacts(batch) }

    /// Every change of `entity`, in log order.
    public func entries(for entity: AuditedEntity) -> [AuditEntry] { entries[entity] ?? [] }

    /// How many entries the audit holds.
    public var entryCount: Int { entries.values.reduce(0) { $0 + $1.count } }
}

extension DomainEvent {
    /// The entities whose audited fields this event can change.
    var auditedEntities: [AuditedEntity] {
        if let tenant = tenantOfTenantStream { return [.tenant(tenant)] }
        switch self {
        case .presenceChanged, .userStateChanged, .tenantIdentityReserved, .tenantIdentityReleased,
            .userPrincipalNameReserved, .userPrincipalNameReleased, .ouTreeChanged:
            return []
        case .licenceContingentSet(let e): return [.tenant(e.tenant)]
        case .serviceLicenceAssigned(let e): return [.service(e.service)]
        case .serviceLicenceReleased(let e): return [.service(e.service)]
        case .userLicenceAssigned(let e): return [.user(e.user)]
        case .userLicenceReleased(let e): return [.user(e.user)]
        case .ouCreated(let e): return [.organisationUnit(e.ou)]
        case .ouRenamed(let e): return [.organisationUnit(e.ou)]
        case .ouMoved(let e): return [.organisationUnit(e.ou)]
        case .ouDeleted(let e): return [.organisationUnit(e.ou)]
        case .ouContentAdded(let e): return [.organisationUnit(e.ou)]
        case .ouContentRemoved(let e): return [.organisationUnit(e.ou)]
        case .serviceProvisioned(let e): return [.service(e.service)]
        case .serviceRenamed(let e): return [.service(e.service)]
        case .serviceMoved(let e): return [.service(e.service)]
        case .serviceTypeChanged(let e): return [.service(e.service)]
        case .distributionSettingsChanged(let e): return [.service(e.service)]
        case .serviceDeletionRequested(let e): return [.service(e.service)]
        case .serviceDeletionCompleted(let e): return [.service(e.service)]
        case .userCreated(let e): return [.user(e.user)]
        case .userRemoved(let e): return [.user(e.user)]
        case .membershipAssigned(let e): return [.user(e.user)]
        case .membershipRemoved(let e): return [.user(e.user)]
        case .userRenamed(let e): return [.user(e.user)]
        case .userPrincipalNameChanged(let e): return [.user(e.user)]
        case .userMoved(let e): return [.user(e.user)]
        case .responsibilityProfileChanged(let e): return [.user(e.user)]
        default: return []
        }
    }
}

extension AuditedEntity: PayloadCodable {
    /// A tag byte (0 tenant, 1 OU, 2 service, 3 user), then the id.
    public func encode(to writer: inout PayloadWriter) {
        switch self {
        case .tenant(let id):
            writer.writeByte(0)
            writer.write(id)
        case .organisationUnit(let id):
            writer.writeByte(1)
            writer.write(id)
        case .service(let id):
            writer.writeByte(2)
            writer.write(id)
        case .user(let id):
            writer.writeByte(3)
            writer.write(id)
        }
    }

    /// A tag byte, then the id.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        switch try reader.readByte() {
        case 0: self = .tenant(try reader.read())
        case 1: self = .organisationUnit(try reader.read())
        case 2: self = .service(try reader.read())
        case 3: self = .user(try reader.read())
        case let other: throw .unknownCode(other, type: "AuditedEntity", at: reader.offset - 1)
        }
    }
}

extension AuditProjection {
    /// The embedded current state, then every entry (entity, position, times, actor, type, changes).
    public func encodeState() -> [UInt8] {
        var writer = PayloadWriter(capacity: 4096)
        let modelBytes = model.encodeState()
        writer.writeVarUInt(UInt64(modelBytes.count))
        var bytes = writer.bytes
        bytes.append(contentsOf: modelBytes)
        var entryWriter = PayloadWriter(capacity: 4096)
        // By position, then entity (one event can change several), so equal states encode to equal bytes.
        let all = entries.values.flatMap { $0 }.sorted { ($0.position, $0.entity) < ($1.position, $1.entity) }
        entryWriter.writeArray(all) { writer, entry in
            writer.write(entry.entity)
            writer.writeVarUInt(entry.position.rawValue)
            writer.writeInt64(entry.occurredAt.microsecondsSinceEpoch)
            writer.writeInt64(entry.recordedAt.microsecondsSinceEpoch)
            writer.write(entry.actor)
            writer.write(entry.eventType)
            writer.writeArray(entry.changes) { writer, change in
                writer.write(change.field)
                writer.write(change.old)
                writer.write(change.new)
            }
        }
        bytes.append(contentsOf: entryWriter.bytes)
        return bytes
    }

    /// Reads a state written by ``encodeState()``.
    /// - Throws: ``ProjectionStateError/corruptState(projection:reason:)``.
    public init(decodingState bytes: [UInt8]) throws(ProjectionStateError) {
        var reader = PayloadReader(bytes)
        let modelLength: Int
        do { modelLength = try reader.readCount() } catch { throw .corrupt(Self.name, error) }
        let modelEnd = reader.offset + modelLength
        var state = AuditProjection()
        state.model = try CurrentStateProjection(decodingState: Array(bytes[reader.offset..<modelEnd]))
        let all = try decodeState(Array(bytes[modelEnd...]), projection: Self.name) {
            reader throws(PayloadDecodingError) in
            try reader.readArray { reader throws(PayloadDecodingError) in
                AuditEntry(
                    entity: try reader.read(), position: GlobalPosition(try reader.readVarUInt()),
                    occurredAt: Timestamp(microsecondsSinceEpoch: try reader.readInt64()),
                    recordedAt: Timestamp(microsecondsSinceEpoch: try reader.readInt64()), actor: try reader.read(),
                    eventType: try reader.read(),
                    changes: try reader.readArray { reader throws(PayloadDecodingError) in
                        FieldChange(field: try reader.read(), old: try reader.read(), new: try reader.read())
                    })
            }
        }
        for entry in all { state.entries[entry.entity, default: []].append(entry) }
        self = state
    }
}
