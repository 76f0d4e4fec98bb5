public import Foundation
import JWTKit
import Synchronization

/// Verifies bearer tokens against the configured keys, issuer and audience, and issues tokens for tests
/// and the demo (`cumulus token`).
///
/// A token is accepted only if its header names a configured key (`kid`) with that key's algorithm (so
/// `alg: none` and algorithm confusion are refused before any signature check), its signature verifies,
/// `iss` and `aud` match, `exp` is present and not past, `nbf` (if present) is reached — both with the
/// configured leeway — and `tid` and `oid` are present. Nothing here ever logs or repeats the token.
public struct Authenticator: Sendable {
    private let keys: JWTKeyCollection
    private let algorithms: [String: ServerConfiguration.Algorithm]
    private let configuration: ServerConfiguration
    /// Tokens whose signature, issuer, audience, `tid` and `oid` were verified, with their claims: a client sends
    /// the same token on every request, and verifying it again (base64, JSON, HMAC or RSA) was a quarter of the
    /// server's CPU on state reads. Only the whole token string finds its entry, so a changed token is verified
    /// afresh; `exp` and `nbf` are checked against the clock on every request, hit or miss. At most
    /// `verifiedCapacity` entries; when full, the cache starts again empty.
    private let verified = VerifiedTokens()
    static let verifiedCapacity = 4096

    /// Loads the configured keys.
    /// - Throws: ``ServerConfigurationError`` when a PEM key cannot be read.
    public init(configuration: ServerConfiguration) async throws(ServerConfigurationError) {
        let keys = JWTKeyCollection()
        var algorithms: [String: ServerConfiguration.Algorithm] = [:]
        for key in configuration.keys {
            let kid = JWKIdentifier(string: key.id)
            switch key.algorithm {
            case .hs256:
                await keys.add(hmac: HMACKey(from: key.secret ?? ""), digestAlgorithm: .sha256, kid: kid)
            case .rs256:
                do {
                    if let privatePEM = key.privateKeyPEM {
                        await keys.add(
                            rsa: try Insecure.RSA.PrivateKey(pem: privatePEM), digestAlgorithm: .sha256, kid: kid)
                    } else {
                        await keys.add(
                            rsa: try Insecure.RSA.PublicKey(pem: key.publicKeyPEM ?? ""), digestAlgorithm: .sha256,
                            kid: kid)
                    }
                } catch {
                    throw ServerConfigurationError(
                        path: "configuration", reason: "key `\(key.id)`: the RSA PEM key cannot be read")
                }
            }
            algorithms[key.id] = key.algorithm
        }
        self.keys = keys
        self.algorithms = algorithms
        self.configuration = configuration
    }

    /// Verifies the value of an `Authorization` header.
    /// - Returns: the token's claims.
    /// - Throws: ``SignInFailure`` saying why (never quoting the token).
    public func authenticate(authorization: String?, now: Date = Date()) async throws(SignInFailure) -> AzureClaims {
        guard let authorization, !authorization.isEmpty else { throw .missing }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw .notBearer }
        let token = String(Self.trimmed(parts[1]))
        let claims: AzureClaims
        if let known = verified.claims(of: token) {
            claims = known
        } else {
            claims = try await verify(token)
            verified.insert(token, claims, capacity: Self.verifiedCapacity)
        }
        let seconds = now.timeIntervalSince1970
        guard let expires = claims.expires else { throw .missingClaim("exp") }
        guard seconds <= expires + configuration.leewaySeconds else { throw .expired }
        if let notBefore = claims.notBefore, seconds < notBefore - configuration.leewaySeconds { throw .notYetValid }
        return claims
    }

    /// The checks of a token that do not depend on the clock: header, key, signature, issuer, audience, the
    /// presence of `exp`, `tid` and `oid`.
    private func verify(_ token: String) async throws(SignInFailure) -> AzureClaims {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let headerData = Self.base64URLDecode(segments[0]),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any]
        else { throw .malformed }
        guard let alg = header["alg"] as? String else { throw .malformed }
        guard let algorithm = ServerConfiguration.Algorithm(rawValue: alg) else { throw .algorithmRefused(alg) }
        guard let kid = header["kid"] as? String, let expected = algorithms[kid] else { throw .unknownKey }
        guard expected == algorithm else { throw .algorithmRefused(alg) }
        let claims: AzureClaims
        do {
            claims = try await keys.verify(token, as: AzureClaims.self)
        } catch {
            throw .badSignature
        }
        guard let issuer = claims.issuer, configuration.issuers.contains(issuer) else { throw .wrongIssuer }
        guard claims.audiences.contains(where: configuration.audiences.contains) else { throw .wrongAudience }
        guard claims.expires != nil else { throw .missingClaim("exp") }
        guard claims.tenantID.flatMap(UUID.init(uuidString:)) != nil else { throw .missingClaim("tid") }
        guard claims.objectID.flatMap(UUID.init(uuidString:)) != nil else { throw .missingClaim("oid") }
        return claims
    }

    /// Signs `claims` with the configured key `keyID` (the first HS256 key when nil).
    /// - Throws: ``SignInFailure/unknownKey`` when there is no such key (or no private key for RS256).
    public func issue(_ claims: AzureClaims, keyID: String? = nil) async throws(SignInFailure) -> String {
        guard
            let key = keyID.flatMap({ id in configuration.keys.first { $0.id == id } })
                ?? configuration.keys.first(where: { $0.algorithm == .hs256 })
        else { throw .unknownKey }
        if key.algorithm == .rs256 && key.privateKeyPEM == nil { throw .unknownKey }
        do {
            return try await keys.sign(
                claims, kid: JWKIdentifier(string: key.id),
                header: JWTHeader(fields: ["alg": .string(key.algorithm.rawValue)]))
        } catch {
            throw .badSignature
        }
    }

    /// `text` without leading and trailing spaces and tabs (Foundation's `trimmingCharacters` bridges through
    /// NSString on Linux, which showed in profiles).
    static func trimmed(_ text: Substring) -> Substring {
        var result = text
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }

    static func base64URLDecode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// Why a token was refused (401). The description never contains the token.
public enum SignInFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// No `Authorization` header.
    case missing
    /// The header is not `Bearer <token>`.
    case notBearer
    /// Not three base64url segments with a JSON header.
    case malformed
    /// `alg` is not one the server accepts for that key (e.g. `none`).
    case algorithmRefused(String)
    /// `kid` is missing or names no configured key.
    case unknownKey
    /// The signature does not verify (tampered, or signed with another key), or the payload is not JSON claims.
    case badSignature
    /// `iss` is not a configured issuer.
    case wrongIssuer
    /// `aud` holds no configured audience.
    case wrongAudience
    /// `exp` is past.
    case expired
    /// `nbf` is not yet reached.
    case notYetValid
    /// A required claim is missing or malformed.
    case missingClaim(String)

    /// The reason, for the 401's `detail` and `WWW-Authenticate`.
    public var description: String {
        switch self {
        case .missing: "no bearer token: send Authorization: Bearer <JWT>"
        case .notBearer: "the Authorization header must be `Bearer <JWT>`"
        case .malformed: "the bearer token is not a JWT (three base64url parts with a JSON header)"
        case .algorithmRefused(let alg): "the token's algorithm `\(alg)` is not accepted for its key (RS256 or HS256)"
        case .unknownKey: "the token's key id (kid) names no configured key"
        case .badSignature: "the token's signature does not verify"
        case .wrongIssuer: "the token's issuer (iss) is not accepted"
        case .wrongAudience: "the token's audience (aud) is not this API"
        case .expired: "the token has expired (exp)"
        case .notYetValid: "the token is not valid yet (nbf)"
        case .missingClaim(let name): "the token lacks a valid `\(name)` claim"
        }
    }
}

/// The verified-token cache of ``Authenticator``.
final class VerifiedTokens: Sendable {
    private let entries = Mutex<[String: AzureClaims]>([:])

    func claims(of token: String) -> AzureClaims? {
        entries.withLock { $0[token] }
    }

    func insert(_ token: String, _ claims: AzureClaims, capacity: Int) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = claims
        }
    }
}
