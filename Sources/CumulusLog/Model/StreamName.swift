/// The name of a stream, such as `tenant-5f0c…` or `user-91ab…`.
///
/// A name is 1 to 255 bytes of UTF-8 without control characters, so that it can be a key in
/// every backend and printed in any error message.
public struct StreamName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The name as text.
    public let rawValue: String

    /// The longest name, in UTF-8 bytes.
    public static let maximumLength = 255

    /// Checks and wraps a name.
    /// - Throws: ``EventStoreError/invalidStreamName(_:reason:)`` when the name is empty, too long or
    ///   contains control characters.
    public init(_ rawValue: String) throws(EventStoreError) {
        let length = rawValue.utf8.count
        guard length > 0 else { throw .invalidStreamName(rawValue, reason: "a stream name cannot be empty") }
        guard length <= Self.maximumLength else {
            throw .invalidStreamName(
                String(rawValue.prefix(40)) + "…",
                reason: "a stream name is at most \(Self.maximumLength) bytes, this one has \(length)"
            )
        }
        guard !rawValue.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            throw .invalidStreamName(rawValue, reason: "a stream name cannot contain control characters")
        }
        self.rawValue = rawValue
    }

    /// Wraps a name read back from storage, which was checked when it was written.
    package init(unchecked rawValue: String) { self.rawValue = rawValue }

    /// Orders names by their text.
    public static func < (lhs: StreamName, rhs: StreamName) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The name.
    public var description: String { rawValue }
}
