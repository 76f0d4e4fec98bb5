/// An enumeration stored as a one-byte code and written in JSON and messages by its name.
///
/// The code is the case's index in ``storageOrder``, which is append-only: reordering it would change
/// the meaning of events already in the log. Names are the raw values.
public protocol StoredEnumeration: RawRepresentable, CaseIterable, Hashable, Sendable, CustomStringConvertible
where RawValue == String {
    /// Every case in stored-code order; new cases are only ever appended.
    static var storageOrder: [Self] { get }
}

extension StoredEnumeration {
    /// The one-byte code stored in event payloads.
    public var code: UInt8 {
        // storageOrder lists every case, so the index exists; 0 is never reached.
        UInt8(truncatingIfNeeded: Self.storageOrder.firstIndex(of: self) ?? 0)
    }

    /// The case stored under `code`, or `nil` for an unknown code.
    public init?(code: UInt8) {
        let order = Self.storageOrder
        guard Int(code) < order.count else { return nil }
        self = order[Int(code)]
    }

    /// The name, as used in JSON commands and messages.
    public var description: String { rawValue }

    /// All names joined for messages, e.g. "`trial`, `active`".
    static var namesForMessages: String { allCases.map { "`\($0.rawValue)`" }.joined(separator: ", ") }
}
