/// A kind of licence a tenant holds a contingent of (domain.md §6).
public enum LicenceKind: String, StoredEnumeration {
    /// Service type licence.
    case advancedRouting
    /// Service type licence.
    case enterpriseRouting
    /// Service type licence.
    case contactCenter
    /// Service feature licence.
    case interact
    /// User licence.
    case contactCenterUser
    /// User feature licence.
    case attendantConsole
    /// User feature licence.
    case assistant
    /// User feature licence.
    case interactUser
    /// User feature licence.
    case transcription
    /// Modality licence (users per channel).
    case instantMessaging
    /// Modality licence (users per channel).
    case externalTask
    /// Modality licence (users per channel).
    case email

    /// Stored-code order (append-only).
    public static let storageOrder: [LicenceKind] = [
        .advancedRouting, .enterpriseRouting, .contactCenter, .interact, .contactCenterUser, .attendantConsole,
        .assistant, .interactUser, .transcription, .instantMessaging, .externalTask, .email,
    ]

    /// What a licence of this kind is assigned to.
    public var category: LicenceCategory {
        switch self {
        case .advancedRouting, .enterpriseRouting, .contactCenter: .serviceType
        case .interact: .serviceFeature
        case .contactCenterUser: .user
        case .attendantConsole, .assistant, .interactUser, .transcription: .userFeature
        case .instantMessaging, .externalTask, .email: .modality
        }
    }

    /// Whether it is assigned to services (type or feature) rather than users.
    public var isAssignedToServices: Bool { category == .serviceType || category == .serviceFeature }

    /// The contingent a new (trial) tenant starts with: 1 for `advancedRouting`, 0 otherwise.
    public var trialDefaultContingent: Int { self == .advancedRouting ? 1 : 0 }
}

/// The group a ``LicenceKind`` belongs to.
public enum LicenceCategory: String, Hashable, Sendable {
    /// Held by a service, one per service of that type.
    case serviceType
    /// Assigned to a service.
    case serviceFeature
    /// Assigned to a user.
    case user
    /// Assigned to a user.
    case userFeature
    /// Assigned to a user (users per channel).
    case modality
}
