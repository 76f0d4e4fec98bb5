/// Microsoft Graph presence availability (domain.md §8).
public enum Availability: String, StoredEnumeration {
    /// `Available`.
    case available = "Available"
    /// `AvailableIdle`.
    case availableIdle = "AvailableIdle"
    /// `Away`.
    case away = "Away"
    /// `BeRightBack`.
    case beRightBack = "BeRightBack"
    /// `Busy`.
    case busy = "Busy"
    /// `BusyIdle`.
    case busyIdle = "BusyIdle"
    /// `DoNotDisturb`.
    case doNotDisturb = "DoNotDisturb"
    /// `Offline`.
    case offline = "Offline"
    /// `PresenceUnknown`.
    case presenceUnknown = "PresenceUnknown"

    /// Stored-code order (append-only).
    public static let storageOrder: [Availability] = [
        .available, .availableIdle, .away, .beRightBack, .busy, .busyIdle, .doNotDisturb, .offline,
        .presenceUnknown,
    ]
}

/// Microsoft Graph presence activity (domain.md §8); `PresenceUnknown` when presence tracking is off.
public enum Activity: String, StoredEnumeration {
    /// `Available`.
    case available = "Available"
    /// `Away`.
    case away = "Away"
    /// `BeRightBack`.
    case beRightBack = "BeRightBack"
    /// `Busy`.
    case busy = "Busy"
    /// `DoNotDisturb`.
    case doNotDisturb = "DoNotDisturb"
    /// `InACall`.
    case inACall = "InACall"
    /// `InAConferenceCall`.
    case inAConferenceCall = "InAConferenceCall"
    /// `Inactive`.
    case inactive = "Inactive"
    /// `InAMeeting`.
    case inAMeeting = "InAMeeting"
    /// `Offline`.
    case offline = "Offline"
    /// `OffWork`.
    case offWork = "OffWork"
    /// `OutOfOffice`.
    case outOfOffice = "OutOfOffice"
    /// `PresenceUnknown`: also used when the tenant has no presence tracking (simplified status only).
    case presenceUnknown = "PresenceUnknown"
    /// `Presenting`.
    case presenting = "Presenting"
    /// `UrgentInterruptionsOnly`.
    case urgentInterruptionsOnly = "UrgentInterruptionsOnly"

    /// Stored-code order (append-only).
    public static let storageOrder: [Activity] = [
        .available, .away, .beRightBack, .busy, .doNotDisturb, .inACall, .inAConferenceCall, .inactive,
        .inAMeeting, .offline, .offWork, .outOfOffice, .presenceUnknown, .presenting, .urgentInterruptionsOnly,
    ]
}

/// The platform's own state of an agent: a tenant-defined name or one of the built-ins.
public enum UserStateName: Hashable, Sendable, CustomStringConvertible {
    /// After-call work (built-in, written `ACW`).
    case afterCallWork
    /// Redirected on no answer (built-in, written `RONA`).
    case redirectedOnNoAnswer
    /// A tenant-defined state such as `Available`, `Break`, `Backoffice` (1–256 characters).
    case custom(String)

    /// Reads the written form: `ACW` and `RONA` are the built-ins, anything else is tenant-defined.
    public init(name: String) {
        switch name {
        case "ACW": self = .afterCallWork
        case "RONA": self = .redirectedOnNoAnswer
        default: self = .custom(name)
        }
    }

    /// The written form.
    public var name: String {
        switch self {
        case .afterCallWork: "ACW"
        case .redirectedOnNoAnswer: "RONA"
        case .custom(let name): name
        }
    }

    /// The written form.
    public var description: String { name }
}
