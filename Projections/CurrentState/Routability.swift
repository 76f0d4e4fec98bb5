public import CumulusDomain

/// Whether a task may be delivered to an agent with a given Teams presence (domain.md §8).
public enum Routability {
    /// The §8 rules, most restrictive first.
    ///
    /// Never while in a call (`InACall`, `InAConferenceCall`), `DoNotDisturb` (availability or activity,
    /// including `Presenting` and `UrgentInterruptionsOnly`, which Teams shows as do-not-disturb), `Offline`,
    /// `OffWork`, `OutOfOffice` or unknown presence; in a meeting (`InAMeeting`) only if the service delivers
    /// while in meetings; `Busy`/`BusyIdle` only if it delivers while busy; `Away`/`BeRightBack` only if it
    /// delivers while away; `Available`/`AvailableIdle` always.
    public static func allows(
        availability: Availability, activity: Activity, distribution: DistributionSettings
    ) -> Bool {
        switch activity {
        case .inACall, .inAConferenceCall, .doNotDisturb, .presenting, .urgentInterruptionsOnly, .offline, .offWork,
            .outOfOffice:
            return false
        case .inAMeeting:
            return distribution.deliverWhileInMeeting && availability != .doNotDisturb && availability != .offline
        default:
            break
        }
        switch availability {
        case .available, .availableIdle: return true
        case .busy, .busyIdle: return distribution.deliverWhileBusy
        case .away, .beRightBack: return distribution.deliverWhileAway
        case .doNotDisturb, .offline, .presenceUnknown: return false
        }
    }
}
