/// Instant-messaging modality settings.
public struct InstantMessagingSettings: Hashable, Sendable, PayloadCodable {
    /// Allowed range of ``maxConcurrentPerService``.
    public static let maxConcurrentRange = 1...50
    /// Whether chat handling is on.
    public var enabled: Bool
    /// Concurrent IM tasks per service; default 20.
    public var maxConcurrentPerService: Int
    /// Whether the tenant's own ACS instance is used; requires ``acsConnectionString``.
    public var useOwnACS: Bool
    /// The ACS connection string (secret).
    public var acsConnectionString: Secret?
    /// The ACS resource id, at most 256 characters.
    public var acsResourceID: String?

    /// Creates the settings with domain.md's defaults.
    public init(
        enabled: Bool = false, maxConcurrentPerService: Int = 20, useOwnACS: Bool = false,
        acsConnectionString: Secret? = nil, acsResourceID: String? = nil
    ) {
        self.enabled = enabled
        self.maxConcurrentPerService = maxConcurrentPerService
        self.useOwnACS = useOwnACS
        self.acsConnectionString = acsConnectionString
        self.acsResourceID = acsResourceID
    }

    /// Appends the fields in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(enabled)
        writer.write(maxConcurrentPerService)
        writer.write(useOwnACS)
        writer.write(acsConnectionString)
        writer.write(acsResourceID)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        enabled = try reader.read()
        maxConcurrentPerService = try reader.read()
        useOwnACS = try reader.read()
        acsConnectionString = try reader.read()
        acsResourceID = try reader.read()
    }
}
