/// The tenant's time zone changed: reporting intervals (15/30/60 minutes, days) are aligned to it.
public struct TimeZoneChanged: EventPayload {
    /// Stable type name stored in the log envelope.
    public static let typeName = "TimeZoneChanged"
    /// Current schema version; older versions are read through upcasters.
    public static let schemaVersion: UInt16 = 1
    /// The tenant.
    public var tenant: TenantID
    /// The IANA time-zone identifier (`Europe/Zurich`, `UTC`), validated when decided.
    public var timeZone: String

    /// Creates the event.
    public init(tenant: TenantID, timeZone: String) {
        self.tenant = tenant
        self.timeZone = timeZone
    }

    /// The stream this fact belongs to.
    public var stream: AggregateStream { .tenant(tenant) }

    /// Appends the fields in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(tenant)
        writer.write(timeZone)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        tenant = try reader.read()
        timeZone = try reader.read()
    }
}
