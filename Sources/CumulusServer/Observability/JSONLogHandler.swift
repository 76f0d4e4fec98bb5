import CumulusLog
import Foundation
public import Logging

/// A swift-log handler writing one JSON object a line to standard error (for log collectors), used by
/// `cumulus serve` when standard error is not a terminal.
///
/// `{"time":"…","level":"info","label":"cumulus","message":"…", …metadata}`. Metadata values are strings.
public struct JSONLogHandler: LogHandler {
    /// The logger's label.
    public let label: String
    /// Metadata added to every line.
    public var metadata: Logger.Metadata = [:]
    /// The lowest level written.
    public var logLevel: Logger.Level = .info

    /// A handler for `label`.
    public init(label: String) { self.label = label }

    /// Metadata by key.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one line.
    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var line = "{\"time\":" + jsonQuoted(Timestamp.now.iso8601) + ",\"level\":" + jsonQuoted(event.level.rawValue)
        line += ",\"label\":" + jsonQuoted(label) + ",\"message\":" + jsonQuoted(event.message.description)
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += "," + jsonQuoted(key) + ":" + jsonQuoted(value.description)
        }
        line += "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
