import Foundation

/// An Azure Communication Services connection string: a secret that never prints in clear.
///
/// `description`, `debugDescription`, `dump` and string interpolation all show the masked form
/// (`endpoint=https://x…;accesskey=****`). Only ``revealedForStorage`` gives the clear text, and only
/// the payload encoder calls it.
public struct Secret: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The clear text; named so that every use is visible in review.
    public let revealedForStorage: String

    /// Validates an ACS connection string of the shape `endpoint=https://<host>/;accesskey=<key>`.
    ///
    /// The two parts are separated by `;` (a trailing `;` is allowed), keys are case-insensitive and
    /// the key must be non-empty.
    /// - Throws: ``DomainError/validation(_:)`` naming `field`; the message never contains the value.
    public init(acsConnectionString value: String, field: String) throws(DomainError) {
        let failure = DomainError.validation(
            ValidationFailure(
                field: field, rule: "an ACS connection string of the shape `endpoint=https://…;accesskey=…`"))
        var endpoint: Substring?
        var key: Substring?
        for part in value.split(separator: ";") {
            guard let equals = part.firstIndex(of: "=") else { throw failure }
            let name = part[..<equals].lowercased()
            let content = part[part.index(after: equals)...]
            switch name {
            case "endpoint" where endpoint == nil: endpoint = content
            case "accesskey" where key == nil: key = content
            default: throw failure
            }
        }
        guard let endpoint, let key, !key.isEmpty, endpoint.lowercased().hasPrefix("https://") else { throw failure }
        var host = endpoint.dropFirst("https://".count)
        if let slash = host.firstIndex(of: "/") { host = host[..<slash] }
        guard FieldRules.isDNSName(String(host)) else { throw failure }
        revealedForStorage = value
    }

    /// Wraps a value read back from the log.
    init(stored value: String) { revealedForStorage = value }

    /// The masked form: `endpoint=https://<first letter of host>…;accesskey=****`.
    public var masked: String {
        guard let range = revealedForStorage.range(of: "https://", options: .caseInsensitive),
            let first = revealedForStorage[range.upperBound...].first
        else { return "****" }
        return "endpoint=https://\(first)…;accesskey=****"
    }

    /// The masked form.
    public var description: String { masked }
    /// The masked form.
    public var debugDescription: String { "Secret(\(masked))" }
    /// Reflection shows only the masked form, so `dump` and debuggers cannot print the clear text.
    public var customMirror: Mirror { Mirror(self, children: ["masked": masked]) }
}
