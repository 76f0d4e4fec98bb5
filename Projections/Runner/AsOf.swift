public import CumulusLog

/// A point in the log's history a view can be built at.
///
/// `--as-of TIME` means ``recordedAt(_:)``: what Cumulus knew at that instant. The log only grows, so
/// every event recorded by then is included, and an event that happened earlier but arrived later is not;
/// the view is reproducible (a later late arrival never changes an as-of view) and equals what a reader
/// saw at that time. Filtering on `occurredAt` instead would mix knowledge from the future into the past.
public enum AsOf: Hashable, Sendable, CustomStringConvertible {
    /// Events at positions up to and including this one.
    case position(GlobalPosition)
    /// Events the log recorded at or before this instant.
    case recordedAt(Timestamp)

    /// Whether the view as of this point includes `event`.
    @inline(__always)
    public func includes(_ event: RecordedEvent) -> Bool {
        switch self {
        case .position(let last): event.position <= last
        case .recordedAt(let instant): event.recordedAt <= instant
        }
    }

    /// `position 42` or `recorded at 2026-11-20T08:00:00Z`.
    public var description: String {
        switch self {
        case .position(let position): "position \(position)"
        case .recordedAt(let instant): "recorded at \(instant)"
        }
    }
}
