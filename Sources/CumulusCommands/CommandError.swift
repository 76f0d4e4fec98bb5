public import CumulusDomain
public import CumulusLog

/// Why a command was not carried out.
public enum CommandError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The domain refused it (permission, validation, licence, lifecycle …); nothing was appended.
    case refused(DomainError)
    /// The log refused or failed the append.
    case storage(EventStoreError)
    /// An event in the log cannot be decoded by this version of Cumulus. The handler no longer throws it: the
    /// write model passes over such events and counts them (``WriteModel/skipped``); kept for source compatibility.
    case undecodableEvent(position: GlobalPosition, type: String, reason: String)
    /// The decision expects a stream at a version the log does not have, and the log holds nothing the
    /// handler has not seen: typically a new entity whose id is taken.
    case streamConflict(stream: String)
    /// Other writers kept changing the same streams; the command was tried this many times.
    case tooMuchContention(attempts: Int)

    /// What went wrong, in one sentence.
    public var description: String {
        switch self {
        case .refused(let error): return error.description
        case .storage(let error): return error.description
        case .undecodableEvent(let position, let type, let reason):
            return "the event at position \(position) (\(type)) cannot be read: \(reason)"
        case .streamConflict(let stream):
            return "stream '\(stream)' already holds events: the id of an entity this command creates is taken"
        case .tooMuchContention(let attempts):
            return "gave up after \(attempts) attempts: other writers kept changing the same streams"
        }
    }
}

/// What became of an accepted command.
public enum CommandOutcome: Hashable, Sendable {
    /// Its events were appended.
    case appended([AppendResult])
    /// Its event id is stored already (a repeated feed line): nothing was appended.
    case alreadyStored(GlobalPosition)
    /// It changes nothing (e.g. a setting set to the value it has): nothing was appended.
    case unchanged

    /// How many events it appended.
    public var eventCount: Int {
        guard case .appended(let results) = self else { return 0 }
        return results.reduce(0) { total, result in
            total + Int(result.lastPosition.rawValue - result.firstPosition.rawValue + 1)
        }
    }
}
