import Crypto
import Foundation

/// The `odata` section of the server's configuration (docs/serve.md, docs/reporting.md):
///
/// ```json
/// "odata": {"signingSecret": "at least 32 bytes of secret", "pageSize": 1000, "baseURL": "https://reports.example/odata/"}
/// ```
public struct ReportingSettings: Sendable {
    /// The secret the feed's `$skiptoken` page links are signed with (through a key derived from it and the
    /// log's first event, so a link of another log is refused). Without it the server draws a random key when
    /// it starts: links stay valid for the server's life, and a client holding one across a restart is told to
    /// start again from the first page (400 `BadSkipToken`).
    public var signingSecret: String?
    /// Rows per page before an `@odata.nextLink` (1 to 5,000).
    public var pageSize: Int = 1_000
    /// The feed's public root URL used in context URLs and next links (behind a proxy that terminates TLS);
    /// without it `http://<Host header>/odata/` (`https://` when the server has `tls`).
    public var baseURL: String?

    /// The defaults: a random signing key per start, 1,000 rows a page, the URL from the `Host` header.
    public init() {}

    /// Reads the section (`nil`: the defaults).
    static func parse(
        _ value: Any?, _ fail: (String) -> ServerConfigurationError
    ) throws(ServerConfigurationError) -> ReportingSettings {
        var settings = ReportingSettings()
        guard let value else { return settings }
        guard let object = value as? [String: Any] else { throw fail("`odata` must be an object") }
        try ServerConfiguration.refuseUnknown(object, ["signingSecret", "pageSize", "baseURL"], in: "odata.", fail)
        if let secret = object["signingSecret"] {
            guard let text = secret as? String, text.utf8.count >= 32 else {
                throw fail("`odata.signingSecret` must be a string of at least 32 bytes")
            }
            settings.signingSecret = text
        }
        if let size = object["pageSize"] {
            guard let number = size as? Int, (1...5_000).contains(number) else {
                throw fail("`odata.pageSize` must be an integer from 1 to 5000")
            }
            settings.pageSize = number
        }
        if let base = object["baseURL"] {
            guard let text = base as? String, let url = URL(string: text),
                url.scheme == "http" || url.scheme == "https",
                url.host != nil
            else { throw fail("`odata.baseURL` must be an absolute http(s) URL such as https://host/odata/") }
            settings.baseURL = text.hasSuffix("/") ? text : text + "/"
        }
        return settings
    }

    /// The page-link key: SHA-256 over the secret (or, without one, random bytes drawn once) and the id of the
    /// log's first event.
    func signingKey(firstEventID: String) -> [UInt8] {
        let secret =
            signingSecret.map { Array($0.utf8) }
            ?? SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        var material = Array("cumulus-odata-page-links|".utf8)
        material += secret
        material += Array("|\(firstEventID)".utf8)
        return Array(SHA256.hash(data: material))
    }
}
