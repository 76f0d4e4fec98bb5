/// E-mail modality settings.
public struct EmailSettings: Hashable, Sendable, PayloadCodable {
    /// Allowed range of ``maxConcurrent``.
    public static let maxConcurrentRange = 1...200
    /// Concurrent e-mail tasks; default 50.
    public var maxConcurrent: Int

    /// Creates the settings with domain.md's default.
    public init(maxConcurrent: Int = 50) { self.maxConcurrent = maxConcurrent }

    /// One varint.
    public func encode(to writer: inout PayloadWriter) { writer.write(maxConcurrent) }
    /// One varint.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) { maxConcurrent = try reader.read() }
}
