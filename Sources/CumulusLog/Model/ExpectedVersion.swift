/// What an append expects of the stream it writes to: the optimistic-concurrency check.
public enum ExpectedVersion: Hashable, Sendable, CustomStringConvertible {
    /// Append whatever the stream's version.
    case any
    /// The stream must not exist yet (version 0).
    case noStream
    /// The stream must be at exactly this version; `.exactly(.empty)` means the same as ``noStream``.
    case exactly(StreamVersion)

    /// Whether a stream at `actual` satisfies this expectation.
    public func isSatisfied(by actual: StreamVersion) -> Bool {
        switch self {
        case .any: return true
        case .noStream: return actual == .empty
        case .exactly(let version): return actual == version
        }
    }

    /// `any`, `no stream` or the version number.
    public var description: String {
        switch self {
        case .any: return "any"
        case .noStream: return "no stream"
        case .exactly(let version): return String(version.rawValue)
        }
    }
}
