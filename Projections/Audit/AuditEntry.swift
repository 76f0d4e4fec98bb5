public import CumulusDomain
public import CumulusLog

/// An entity whose changes the audit lists.
public enum AuditedEntity: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// A tenant: its details, settings, state, lifecycle and licence contingents.
    case tenant(TenantID)
    /// An organisation unit: name, parent, lifecycle, contents.
    case organisationUnit(OUID)
    /// A service: name, OU, type, distribution settings, lifecycle, licences.
    case service(ServiceID)
    /// A user: UPN, name, OU, lifecycle, memberships, licences.
    case user(UserID)

    /// `tenant <id>`, `ou <id>`, `service <id>` or `user <id>`.
    public var description: String {
        switch self {
        case .tenant(let id): "tenant \(id)"
        case .organisationUnit(let id): "ou \(id)"
        case .service(let id): "service \(id)"
        case .user(let id): "user \(id)"
        }
    }
}

/// One field that an event changed: its value before and after (`nil` when absent), secrets masked.
public struct FieldChange: Hashable, Sendable, CustomStringConvertible {
    /// The field's path, e.g. `interact.acsConnectionString` or `licences.interact.contingent`.
    public var field: String
    /// The value before the event, or `nil` if the field did not exist (the entity was created).
    public var old: String?
    /// The value after the event, or `nil` if the field no longer exists.
    public var new: String?

    /// Assembles a change.
    public init(field: String, old: String?, new: String?) {
        self.field = field
        self.old = old
        self.new = new
    }

    /// `field: old → new`, with `∅` for an absent value.
    public var description: String { "\(field): \(old ?? "∅") → \(new ?? "∅")" }
}

/// One change of an entity: who, when, which event and what changed.
public struct AuditEntry: Hashable, Sendable {
    /// The entity changed.
    public var entity: AuditedEntity
    /// The event's log position.
    public var position: GlobalPosition
    /// When it happened at the source.
    public var occurredAt: Timestamp
    /// When the log recorded it.
    public var recordedAt: Timestamp
    /// Who did it, in canonical form (`tenantAdmin:<id>`, …).
    public var actor: String
    /// The event type, e.g. `InteractSettingsChanged`.
    public var eventType: String
    /// The fields that changed, old → new; empty when the event repeated the current values.
    public var changes: [FieldChange]

    /// Assembles an entry.
    public init(
        entity: AuditedEntity, position: GlobalPosition, occurredAt: Timestamp, recordedAt: Timestamp, actor: String,
        eventType: String, changes: [FieldChange]
    ) {
        self.entity = entity
        self.position = position
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.actor = actor
        self.eventType = eventType
        self.changes = changes
    }
}
