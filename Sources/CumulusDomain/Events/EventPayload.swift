/// The payload of one event type: a stable type name, a schema version and the binary form.
public protocol EventPayload: PayloadCodable, Hashable {
    /// Stable name stored in the envelope's `type`; never changes once written.
    static var typeName: String { get }
    /// The schema version this build writes.
    static var schemaVersion: UInt16 { get }
    /// The names of the fields that hold personal data of ``dataSubject`` (empty if none).
    static var personalDataFields: [String] { get }
    /// The stream the fact belongs to.
    var stream: AggregateStream { get }
    /// Whose personal data the event holds, if any; the key a per-person erasure would use.
    var dataSubject: DataSubject? { get }
    /// Reads a payload of `schemaVersion`, upcasting older versions to the current shape.
    static func decode(schemaVersion: UInt16, from reader: inout PayloadReader) throws(PayloadDecodingError) -> Self
}

extension EventPayload {
    /// No personal data by default.
    public static var personalDataFields: [String] { [] }
    /// No personal data by default.
    public var dataSubject: DataSubject? { nil }

    /// Reads the current version only; types with older versions provide their own upcasting `decode`.
    public static func decode(
        schemaVersion: UInt16, from reader: inout PayloadReader
    ) throws(PayloadDecodingError)
        -> Self
    {
        guard schemaVersion == Self.schemaVersion else {
            throw .unsupportedSchemaVersion(type: typeName, version: schemaVersion)
        }
        return try Self(from: &reader)
    }
}
