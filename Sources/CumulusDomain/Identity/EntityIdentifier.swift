public import Foundation

/// A UUID-backed identifier of one kind of entity, written in lowercase canonical form.
///
/// Each entity kind has its own type so that a `UserID` can never be passed where a `ServiceID` is
/// expected; they are plain values and therefore `Sendable`.
public protocol EntityIdentifier: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The underlying UUID.
    var uuid: UUID { get }
    /// Wraps a UUID.
    init(_ uuid: UUID)
}

extension EntityIdentifier {
    /// Parses the canonical 36-character form (any letter case); `nil` if it is not a UUID.
    public init?(string: String) {
        guard string.utf8.count == 36, let uuid = UUID(uuidString: string) else { return nil }
        self.init(uuid)
    }

    /// The lowercase canonical string, e.g. `6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11`.
    public var description: String { uuid.uuidString.lowercased() }

    /// Orders by canonical string so that listings are stable.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }
}
