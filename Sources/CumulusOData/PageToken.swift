import Crypto
import Foundation

/// A `$skiptoken`: where the next page starts, pinned to the log position and instant the first page was read at,
/// signed with the server's key so that a tampered token, or one from another server or log, is refused.
///
/// Text form: `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`, payload
/// `v1|<entity set>|<position>|<instant µs>|<offset>|<query digest>`. The query digest binds the token to the
/// query it was issued for (`$filter`, `$orderby`, … without `$skiptoken`).
struct PageToken: Hashable {
    var entitySet: String
    var position: UInt64
    var instantMicros: Int64
    var offset: Int
    var queryDigest: String

    var payload: String { "v1|\(entitySet)|\(position)|\(instantMicros)|\(offset)|\(queryDigest)" }

    func encoded(key: SymmetricKey) -> String {
        let bytes = Data(payload.utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: bytes, using: key)
        return Self.base64URL(bytes) + "." + Self.base64URL(Data(mac))
    }

    /// Reads and checks a token.
    /// - Throws: ``ODataError`` 400 `BadSkipToken` when it is malformed, signed by another key, or for another query.
    init(decoding text: String, key: SymmetricKey, entitySet: String, queryDigest: String) throws(ODataError) {
        func refuse(_ why: String) -> ODataError {
            .badRequest("BadSkipToken", "$skiptoken: \(why); start again from the first page", option: "$skiptoken")
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Self.data(base64URL: String(parts[0])),
            let mac = Self.data(base64URL: String(parts[1]))
        else { throw refuse("not a page link this server issued") }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else {
            throw refuse("its signature does not match (tampered with, or issued by another server or log)")
        }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "v1", let position = UInt64(fields[2]), let instant = Int64(fields[3]),
            let offset = Int(fields[4]), offset >= 0
        else { throw refuse("malformed") }
        guard fields[1] == entitySet else { throw refuse("it belongs to \(fields[1]), not \(entitySet)") }
        guard fields[5] == queryDigest else { throw refuse("it belongs to another query") }
        self.entitySet = entitySet
        self.position = position
        instantMicros = instant
        self.offset = offset
        self.queryDigest = queryDigest
    }

    init(entitySet: String, position: UInt64, instantMicros: Int64, offset: Int, queryDigest: String) {
        self.entitySet = entitySet
        self.position = position
        self.instantMicros = instantMicros
        self.offset = offset
        self.queryDigest = queryDigest
    }

    /// A short digest of the query options a token is bound to.
    static func digest(of options: [(String, String)]) -> String {
        let canonical = options.map { "\($0.0)=\($0.1)" }.sorted().joined(separator: "&")
        return SHA256.hash(data: Data(canonical.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    static func base64URL(_ data: Data) -> String {
        var text = data.base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func data(base64URL text: String) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            return nil
        }
        var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base.count % 4 != 0 { base += "=" }
        return Data(base64Encoded: base)
    }
}
