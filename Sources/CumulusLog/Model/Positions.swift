/// The position of an event in the whole log: 1 for the first event, then 2, 3, … with no gaps.
///
/// Position 0 (``GlobalPosition/start``) stands before the first event, so "read after 0" reads everything.
public struct GlobalPosition: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The position as a number.
    public var rawValue: UInt64

    /// Wraps a raw position.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Wraps a raw position.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// The position before the first event.
    public static let start = GlobalPosition(0)

    /// The following position.
    public var next: GlobalPosition { GlobalPosition(rawValue &+ 1) }

    /// Orders positions by their number.
    public static func < (lhs: GlobalPosition, rhs: GlobalPosition) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The number, as text.
    public var description: String { String(rawValue) }
}

/// The version of a stream: the number of events it holds. Its first event has version 1.
public struct StreamVersion: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The version as a number.
    public var rawValue: UInt64

    /// Wraps a raw version.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Wraps a raw version.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// The version of a stream that has no event yet.
    public static let empty = StreamVersion(0)

    /// The following version.
    public var next: StreamVersion { StreamVersion(rawValue &+ 1) }

    /// Orders versions by their number.
    public static func < (lhs: StreamVersion, rhs: StreamVersion) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The number, as text.
    public var description: String { String(rawValue) }
}

extension GlobalPosition {
    /// `"NAME P is past the end of the log (its last position is N)"` when `position` lies after `head`, else nil.
    ///
    /// The one wording for every reader that is given a position to read after or to build as of (`cumulus read`,
    /// `tail`, `--as-of`; the server's `after`, `Last-Event-ID` and `asOf`): the log has never stood there, so
    /// waiting for it would skip the events up to it, and a view as of it would change as the log grows. Each
    /// caller adds what to do instead.
    package static func pastTheEnd(_ position: UInt64, head: GlobalPosition, named name: String) -> String? {
        guard position > head.rawValue else { return nil }
        return "\(name) \(position) is past the end of the log (its last position is \(head.rawValue))"
    }
}
