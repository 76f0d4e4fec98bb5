/// Why a command was refused; a refused command appends nothing.
///
/// Every case carries what a caller needs to act on it, and ``description`` names what was wrong
/// and where. No message ever contains a secret or a personal-data value: validation messages name
/// the field and the rule, never the rejected input.
public enum DomainError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The actor may not perform the action.
    case permissionDenied(PermissionDenied)
    /// An input field broke its rule.
    case validation(ValidationFailure)
    /// The assignment would make licence usage exceed the contingent.
    case licenceExhausted(LicenceExhausted)
    /// The tenant is `suspended`, `expired` or `canceled`; only a systemAdmin may act on it.
    case tenantNotOperational(TenantID, TenantState)
    /// The entity is pending deletion or deleted (or removed) and accepts no further commands.
    case notLive(EntityReference, Lifecycle)
    /// The entity does not exist.
    case notFound(EntityReference)
    /// The entity already exists (e.g. a second creation with the same id).
    case alreadyExists(EntityReference)
    /// A value that must be unique among live tenants is already held by another tenant.
    case conflict(UniquenessConflict)
    /// Tenant deletion was requested without the exact confirmation text `YES`.
    case deletionNotConfirmed
    /// The organisation unit still holds sub-OUs, services or users.
    case ouNotEmpty(OUID, subOUs: Int, services: Int, users: Int)
    /// The organisation-unit tree would break (deleting or moving the root, a cycle, another tenant's OU).
    case invalidTreeChange(OUID, reason: String)

    /// A message naming what was refused and why.
    public var description: String {
        switch self {
        case .permissionDenied(let denial): denial.description
        case .validation(let failure): failure.description
        case .licenceExhausted(let exhausted): exhausted.description
        case .tenantNotOperational(let tenant, let state):
            "tenant \(tenant) is \(state) and not operational: only a systemAdmin may act on it until its state "
                + "is trial, active or lab"
        case .notLive(let entity, let lifecycle):
            "\(entity) is \(lifecycle) and accepts no further commands"
        case .notFound(let entity): "\(entity) does not exist"
        case .alreadyExists(let entity): "\(entity) already exists"
        case .conflict(let conflict): conflict.description
        case .deletionNotConfirmed:
            "tenant deletion not confirmed: the confirmation must be exactly `YES` (it cannot be undone)"
        case .ouNotEmpty(let ou, let subOUs, let services, let users):
            "organisation unit \(ou) is not empty (\(subOUs) sub-OUs, \(services) services, \(users) users): "
                + "move or delete them first"
        case .invalidTreeChange(let ou, let reason): "organisation unit \(ou): \(reason)"
        }
    }
}

/// The actor may not perform the action; names actor, action and the rule that applies.
public struct PermissionDenied: Error, Hashable, Sendable, CustomStringConvertible {
    /// Who tried.
    public let actor: Actor
    /// What they tried.
    public let action: Action
    /// The rule of the permission matrix that refused it.
    public let rule: String

    /// Creates the refusal.
    public init(actor: Actor, action: Action, rule: String) {
        self.actor = actor
        self.action = action
        self.rule = rule
    }

    /// e.g. "permission denied: teamMember:… may not changeTenantState (rule: systemAdmin only)".
    public var description: String { "permission denied: \(actor) may not \(action) (rule: \(rule))" }
}

/// An input field broke its rule. Never contains the rejected value (it may be a secret).
public struct ValidationFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The field, as a dotted path, e.g. `technicalContact.phone`.
    public let field: String
    /// The rule the value broke, e.g. `E.164: + then 2–15 digits, the first not 0`.
    public let rule: String

    /// Creates the failure.
    public init(field: String, rule: String) {
        self.field = field
        self.rule = rule
    }

    /// e.g. "invalid technicalContact.phone: must be E.164 …".
    public var description: String { "invalid \(field): must be \(rule)" }
}

/// An assignment would make usage of a licence kind exceed the tenant's contingent.
public struct LicenceExhausted: Error, Hashable, Sendable, CustomStringConvertible {
    /// The licence kind.
    public let kind: LicenceKind
    /// Live assignments of that kind before this one.
    public let used: Int
    /// The tenant's contingent of that kind.
    public let contingent: Int

    /// Creates the refusal.
    public init(kind: LicenceKind, used: Int, contingent: Int) {
        self.kind = kind
        self.used = used
        self.contingent = contingent
    }

    /// e.g. "licence exhausted: advancedRouting used 1 of contingent 1 …".
    public var description: String {
        "licence exhausted: \(kind) used \(used) of contingent \(contingent); release one or ask a systemAdmin "
            + "to raise the contingent"
    }
}

/// A value that must be unique among live tenants is already held.
public struct UniquenessConflict: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which value: `name`, `o365Domain` or `tenantId`.
    public let field: String
    /// The live tenant that holds it.
    public let heldBy: TenantID

    /// Creates the conflict.
    public init(field: String, heldBy: TenantID) {
        self.field = field
        self.heldBy = heldBy
    }

    /// Names the field and the holder, not the value (tenant names can be customer identifiers).
    public var description: String { "conflict: \(field) is already used by live tenant \(heldBy)" }
}

/// Names an entity in errors.
public enum EntityReference: Hashable, Sendable, CustomStringConvertible {
    /// A tenant.
    case tenant(TenantID)
    /// An organisation unit.
    case ou(OUID)
    /// A service.
    case service(ServiceID)
    /// A user.
    case user(UserID)
    /// A user's membership of a service.
    case membership(UserID, ServiceID)
    /// A licence assigned to a service.
    case serviceLicence(ServiceID, LicenceKind)
    /// A licence assigned to a user.
    case userLicence(UserID, LicenceKind)

    /// e.g. "service 6f1c…".
    public var description: String {
        switch self {
        case .tenant(let id): "tenant \(id)"
        case .ou(let id): "organisation unit \(id)"
        case .service(let id): "service \(id)"
        case .user(let id): "user \(id)"
        case .membership(let user, let service): "membership of user \(user) in service \(service)"
        case .serviceLicence(let service, let kind): "\(kind) licence of service \(service)"
        case .userLicence(let user, let kind): "\(kind) licence of user \(user)"
        }
    }
}
