import CumulusDomain
public import CumulusLog
public import CumulusProjections

/// A read-only view of the projections as of one log position, which the feed reads rows from.
///
/// The server builds it (from its live projections, or as of an earlier position for a page link that pinned
/// one) and hands it to ``ODataService/respond(to:snapshot:)``; the feed never reads the log itself.
public struct ODataSnapshot: Sendable {
    /// The log position the projections have applied (inclusive).
    public var position: UInt64
    /// The instant open rows and current states are measured to (the as-of time, or now).
    public var instant: Timestamp
    /// Tenants, OUs, services, users and current presence.
    public var currentState: CurrentStateProjection
    /// Licence counters.
    public var licences: LicenceCountersProjection
    /// The user-state report.
    public var report: UserStateReportProjection
    /// Time in state.
    public var timeInState: TimeInStateProjection

    /// Assembles a snapshot.
    public init(
        position: UInt64, instant: Timestamp, currentState: CurrentStateProjection,
        licences: LicenceCountersProjection, report: UserStateReportProjection, timeInState: TimeInStateProjection
    ) {
        self.position = position
        self.instant = instant
        self.currentState = currentState
        self.licences = licences
        self.report = report
        self.timeInState = timeInState
    }
}
