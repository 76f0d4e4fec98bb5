public import JWTKit

/// The claims of an Azure AD (Entra ID) access token that Cumulus reads (docs/domain.md, "Sign-in").
///
/// Decoded with explicit keys; `aud` may be a string or an array, as RFC 7519 allows.
public struct AzureClaims: JWTPayload, Hashable {
    /// `iss`: who issued the token.
    public var issuer: String?
    /// `aud`: who the token is for.
    public var audiences: [String]
    /// `exp`: seconds since 1970 after which the token is refused.
    public var expires: Double?
    /// `nbf`: seconds since 1970 before which the token is refused.
    public var notBefore: Double?
    /// `iat`: when it was issued.
    public var issuedAt: Double?
    /// `tid`: the caller's Azure tenant id.
    public var tenantID: String?
    /// `oid`: the caller's object id.
    public var objectID: String?
    /// `groups`: security-group object ids.
    public var groups: [String]
    /// `roles`: app roles.
    public var roles: [String]

    /// Creates claims.
    public init(
        issuer: String?, audiences: [String], expires: Double?, notBefore: Double? = nil, issuedAt: Double? = nil,
        tenantID: String?, objectID: String?, groups: [String] = [], roles: [String] = []
    ) {
        self.issuer = issuer
        self.audiences = audiences
        self.expires = expires
        self.notBefore = notBefore
        self.issuedAt = issuedAt
        self.tenantID = tenantID
        self.objectID = objectID
        self.groups = groups
        self.roles = roles
    }

    enum CodingKeys: String, CodingKey {
        case iss, aud, exp, nbf, iat, tid, oid, groups, roles
    }

    /// Decodes the claims (explicit keys).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        issuer = try container.decodeIfPresent(String.self, forKey: .iss)
        if let single = try? container.decodeIfPresent(String.self, forKey: .aud) {
            audiences = [single]
        } else {
            audiences = try container.decodeIfPresent([String].self, forKey: .aud) ?? []
        }
        expires = try container.decodeIfPresent(Double.self, forKey: .exp)
        notBefore = try container.decodeIfPresent(Double.self, forKey: .nbf)
        issuedAt = try container.decodeIfPresent(Double.self, forKey: .iat)
        tenantID = try container.decodeIfPresent(String.self, forKey: .tid)
        objectID = try container.decodeIfPresent(String.self, forKey: .oid)
        groups = try container.decodeIfPresent([String].self, forKey: .groups) ?? []
        roles = try container.decodeIfPresent([String].self, forKey: .roles) ?? []
    }

    /// Encodes the claims (explicit keys).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(issuer, forKey: .iss)
        if audiences.count == 1 {
            try container.encode(audiences[0], forKey: .aud)
        } else {
            try container.encode(audiences, forKey: .aud)
        }
        try container.encodeIfPresent(expires, forKey: .exp)
        try container.encodeIfPresent(notBefore, forKey: .nbf)
        try container.encodeIfPresent(issuedAt, forKey: .iat)
        try container.encodeIfPresent(tenantID, forKey: .tid)
        try container.encodeIfPresent(objectID, forKey: .oid)
        if !groups.isEmpty { try container.encode(groups, forKey: .groups) }
        if !roles.isEmpty { try container.encode(roles, forKey: .roles) }
    }

    /// The time claims are checked by ``Authenticator`` with the configured leeway, not here.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
