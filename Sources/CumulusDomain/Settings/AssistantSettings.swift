/// Assistant extension settings.
public struct AssistantSettings: Hashable, Sendable, PayloadCodable {
    /// Whether the tenant's own ACS instance is used; requires ``acsConnectionString``.
    public var useOwnACS: Bool
    /// The ACS connection string (secret).
    public var acsConnectionString: Secret?

    /// Creates the settings with domain.md's defaults.
    public init(useOwnACS: Bool = false, acsConnectionString: Secret? = nil) {
        self.useOwnACS = useOwnACS
        self.acsConnectionString = acsConnectionString
    }

    /// Appends the fields in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(useOwnACS)
        writer.write(acsConnectionString)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        useOwnACS = try reader.read()
        acsConnectionString = try reader.read()
    }
}
