import CumulusDomain
public import CumulusLog

/// Why a stored projection state or an event could not be used, with what to do about it.
public enum ProjectionStateError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stored state bytes are damaged; rebuild the projection from position 0.
    case corruptState(projection: String, reason: String)
    /// The checkpoint names a projection this set does not hold.
    case unknownProjection(String)
    /// An event's payload could not be decoded; the log holds an event this build cannot read.
    case undecodableEvent(position: GlobalPosition, type: String, reason: String)

    /// A sentence naming the problem, where it is, and the remedy.
    public var description: String {
        switch self {
        case .corruptState(let projection, let reason):
            "the stored state of projection `\(projection)` is damaged (\(reason)); rebuild it with `cumulus rebuild \(projection)`"
        case .unknownProjection(let name):
            "checkpoint `\(name)` belongs to no known projection; it was ignored"
        case .undecodableEvent(let position, let type, let reason):
            "event \(type) at position \(position) cannot be decoded (\(reason)); upgrade Cumulus to read this log"
        }
    }

    /// Wraps a payload-decoding failure met while reading a projection state.
    static func corrupt(_ projection: String, _ error: PayloadDecodingError) -> ProjectionStateError {
        .corruptState(projection: projection, reason: error.description)
    }
}
