/// The commercial state of a tenant (domain.md §3, §7); only a systemAdmin changes it.
public enum TenantState: String, StoredEnumeration {
    /// New tenants start here; operational.
    case trial
    /// A valid subscription; operational.
    case active
    /// Not operational: users cannot log in, tasks are rejected.
    case suspended
    /// Not operational.
    case expired
    /// Not operational.
    case canceled
    /// A lab subscription for tests; operational.
    case lab

    /// Stored-code order (append-only).
    public static let storageOrder: [TenantState] = [.trial, .active, .suspended, .expired, .canceled, .lab]

    /// Whether commands by anyone but a systemAdmin, and presence events, are accepted.
    public var isOperational: Bool {
        switch self {
        case .trial, .active, .lab: true
        case .suspended, .expired, .canceled: false
        }
    }
}

/// The lifecycle of a tenant or a service; a user uses `live` and `deleted` (removed).
public enum Lifecycle: String, StoredEnumeration {
    /// In use.
    case live
    /// Deletion requested; ceased to operate, awaiting the provisioning-script run.
    case pendingDeletion
    /// Deleted (or, for a user, removed); cannot be undone.
    case deleted

    /// Stored-code order (append-only).
    public static let storageOrder: [Lifecycle] = [.live, .pendingDeletion, .deleted]
}
