/// Outbound extension settings.
public struct OutboundSettings: Hashable, Sendable, PayloadCodable {
    /// Allowed range of ``maxScheduledTasksPerService``.
    public static let maxScheduledTasksRange = 1...50
    /// Maximum outbound tasks per service scheduled or in progress at once; default 20.
    public var maxScheduledTasksPerService: Int

    /// Creates the settings with domain.md's default.
    public init(maxScheduledTasksPerService: Int = 20) {
        self.maxScheduledTasksPerService = maxScheduledTasksPerService
    }

    /// One varint.
    public func encode(to writer: inout PayloadWriter) { writer.write(maxScheduledTasksPerService) }
    /// One varint.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        maxScheduledTasksPerService = try reader.read()
    }
}
