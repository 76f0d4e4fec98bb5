/// Everything that can go wrong in the log, with what went wrong and where.
///
/// Every case leaves the log as it was: a refused append writes nothing.
public enum EventStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stream is not at the version the append expected.
    case wrongExpectedVersion(stream: StreamName, expected: ExpectedVersion, actual: StreamVersion)
    /// An event with this id is stored already with different content.
    case eventIDConflict(id: EventID, storedAt: GlobalPosition)
    /// Some events of one append are stored already and some are new; a retry must resend exactly the
    /// same append.
    case partiallyStored(id: EventID, storedAt: GlobalPosition)
    /// The same event id appears twice in one append.
    case duplicateEventInAppend(id: EventID)
    /// The same stream appears twice in one multi-stream append.
    case duplicateStreamInAppend(StreamName)
    /// An append with no events.
    case emptyAppend(StreamName)
    /// A stream name that cannot be stored.
    case invalidStreamName(String, reason: String)
    /// A field of an event or checkpoint that cannot be stored (too long, empty).
    case invalidField(field: String, reason: String)
    /// The directory holds something other than a Cumulus log.
    case notACumulusLog(path: String, reason: String)
    /// The log was written by a newer Cumulus whose format this one does not know.
    case unsupportedFormat(path: String, found: UInt32, supported: UInt32)
    /// The directory holds no log and creating one was not asked for.
    case logNotFound(path: String)
    /// The directory is open in this process already with a different value of an option that one process
    /// cannot hold two values of (the flush policy, the map size, the reader slots).
    case conflictingOptions(path: String, option: String, inUse: String, requested: String)
    /// The log's content is damaged: the hash chain, a record or an index does not check out.
    case integrityViolation(position: GlobalPosition?, reason: String)
    /// The storage engine reported an error.
    case storage(operation: String, code: Int32, message: String)
    /// An operating-system call failed.
    case system(operation: String, path: String, errno: Int32, message: String)
    /// The log was opened read-only and cannot be written through this handle.
    case readOnly(path: String)
    /// The log was closed.
    case closed
    /// The waiting task was cancelled.
    case cancelled

    /// A sentence that says what went wrong, where, and what to do.
    public var description: String {
        switch self {
        case .wrongExpectedVersion(let stream, let expected, let actual):
            return "stream '\(stream)' is at version \(actual), the append expected \(expected); "
                + "nothing was written — reload the stream and decide again"
        case .eventIDConflict(let id, let position):
            return "event id \(id) is stored already at position \(position) with different content; "
                + "nothing was written"
        case .partiallyStored(let id, let position):
            return "event id \(id) of this append is stored already at position \(position) while others are "
                + "new; resend the same append or use new ids; nothing was written"
        case .duplicateEventInAppend(let id):
            return "event id \(id) appears twice in one append; nothing was written"
        case .duplicateStreamInAppend(let stream):
            return "stream '\(stream)' appears twice in one multi-stream append; merge its events; nothing was written"
        case .emptyAppend(let stream):
            return "the append to stream '\(stream)' has no events"
        case .invalidStreamName(let name, let reason):
            return "invalid stream name '\(VisibleText.escaped(name))': \(reason)"
        case .invalidField(let field, let reason):
            return "invalid \(field): \(reason)"
        case .notACumulusLog(let path, let reason):
            return "\(path) is not a Cumulus log: \(reason); it was left untouched"
        case .unsupportedFormat(let path, let found, let supported):
            return "\(path) has log format \(found), this version of Cumulus reads up to format \(supported); "
                + "upgrade Cumulus — the log was left untouched"
        case .logNotFound(let path):
            return "no Cumulus log at \(path); create one with `cumulus init`"
        case .conflictingOptions(let path, let option, let inUse, let requested):
            return "\(path) is open in this process already with \(option) \(inUse), this open asked for "
                + "\(requested); open it with the same \(option) or close the other handles first — "
                + "nothing was changed"
        case .integrityViolation(let position, let reason):
            if let position { return "the log is damaged at position \(position): \(reason)" }
            return "the log is damaged: \(reason)"
        case .storage(let operation, let code, let message):
            return "storage error in \(operation): \(message) (code \(code))"
        case .system(let operation, let path, let errno, let message):
            return "\(operation) failed for \(path): \(message) (errno \(errno))"
        case .readOnly(let path):
            return "the log at \(path) is open read-only: nothing was written"
        case .closed:
            return "the log is closed"
        case .cancelled:
            return "the wait was cancelled"
        }
    }
}
