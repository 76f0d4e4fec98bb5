/// External-task modality settings.
public struct ExternalTaskSettings: Hashable, Sendable, PayloadCodable {
    /// Allowed range of ``maxConcurrentPerService``.
    public static let maxConcurrentRange = 1...50
    /// Concurrent external tasks per service; default 20.
    public var maxConcurrentPerService: Int

    /// Creates the settings with domain.md's default.
    public init(maxConcurrentPerService: Int = 20) { self.maxConcurrentPerService = maxConcurrentPerService }

    /// One varint.
    public func encode(to writer: inout PayloadWriter) { writer.write(maxConcurrentPerService) }
    /// One varint.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        maxConcurrentPerService = try reader.read()
    }
}
