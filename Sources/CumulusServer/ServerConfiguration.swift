public import Foundation

/// The settings of `cumulus serve`, read from a JSON configuration file (docs/serve.md describes it).
///
/// ```json
/// {"issuer": "https://login.microsoftonline.com/<tid>/v2.0", "audience": "api://cumulus",
///  "platformAdminGroups": ["<group object id>"],
///  "keys": [{"kid": "dev", "alg": "HS256", "secret": "…"}, {"kid": "aad", "alg": "RS256", "publicKeyPEM": "…"}]}
/// ```
public struct ServerConfiguration: Sendable {
    /// One key tokens may be signed with.
    public struct Key: Sendable {
        /// The key id tokens name in their `kid` header.
        public var id: String
        /// `HS256` or `RS256`.
        public var algorithm: Algorithm
        /// The HMAC secret (HS256).
        public var secret: String?
        /// The PEM public key (RS256).
        public var publicKeyPEM: String?
        /// The PEM private key (RS256; only `cumulus token` needs it).
        public var privateKeyPEM: String?

        /// Creates a key.
        public init(
            id: String, algorithm: Algorithm, secret: String? = nil, publicKeyPEM: String? = nil,
            privateKeyPEM: String? = nil
        ) {
            self.id = id
            self.algorithm = algorithm
            self.secret = secret
            self.publicKeyPEM = publicKeyPEM
            self.privateKeyPEM = privateKeyPEM
        }
    }

    /// The signature algorithms the server accepts.
    public enum Algorithm: String, Sendable, CaseIterable {
        /// HMAC with SHA-256 (a shared secret).
        case hs256 = "HS256"
        /// RSA PKCS#1 v1.5 with SHA-256 (Azure AD's algorithm).
        case rs256 = "RS256"
    }

    /// Size and time limits of requests.
    public struct Limits: Sendable {
        /// Largest request body in bytes (413 above).
        public var maximumBodyBytes: Int = 4 << 20
        /// Largest line of a batch in bytes (the line is refused above).
        public var maximumLineBytes: Int = 64 << 10
        /// Most lines in one batch (413 above).
        public var maximumBatchLines: Int = 10_000
        /// Most events one `GET /v1/events` returns.
        public var maximumEventsPerPage: Int = 10_000
        /// The widest window, in days, of time in state by interval: `GET /v1/reports/time-in-state?interval=`
        /// (`from` to `to`) and the feed's `TimeInStateIntervals` (the `IntervalStart` range). A wider one is a
        /// 400: its rows (a user, an interval, a state) grow with the window times the users, all built before the
        /// first page is cut.
        public var maximumIntervalWindowDays: Int = 93
        /// The most (user, interval) pairs one query of time in state by interval may span — each gives at least
        /// one row, and all rows are built before the first page is cut: 1,000,000 (a week of quarter hours for
        /// 1,488 users). More is a 400 that says how many, before any row is built.
        public var maximumIntervalRows: Int = 1_000_000
        /// The most rows one query of the feed's `UserStates` may select by its `Start` range (1,000,000, about a
        /// month of a 900-user tenant): the feed builds a query's rows, about 0.6 KB each, before its first page.
        /// More is a 400 `TooManyRows` asking for a narrower `Start` range.
        public var maximumFeedUserStateRows: Int = 1_000_000
        /// Seconds the server may wait for a client's next bytes — between requests, or inside one — before it
        /// closes the connection. Time in which the server itself is not reading, or is answering, does not count.
        public var idleTimeoutSeconds: Double = 30
        /// Seconds the server may spend, in all, waiting for one request's bytes (head and body) from its first
        /// byte to its last, or the connection is closed: cuts off clients that trickle a request a byte at a time
        /// (slowloris). Time in which the server itself is not reading does not count.
        public var requestTimeoutSeconds: Double = 30

        /// The defaults above.
        public init() {}
    }

    /// Host to listen on.
    public var host: String = "127.0.0.1"
    /// Port to listen on (0: any free port).
    public var port: Int = 8080
    /// The accepted `iss` values.
    public var issuers: [String] = []
    /// The accepted `aud` values.
    public var audiences: [String] = []
    /// Security-group object ids whose members are `systemAdmin`.
    public var platformAdminGroups: Set<String> = []
    /// The keys tokens may be signed with.
    public var keys: [Key] = []
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    public var leewaySeconds: Double = 60
    /// Seconds between checkpoint saves while serving.
    public var checkpointIntervalSeconds: Double = 60
    /// Request limits.
    public var limits = Limits()
    /// The OData feed's page-link secret, page size and public URL.
    public var odata = ReportingSettings()
    /// The certificate and key of HTTPS; nil serves plain HTTP (for a loopback address, or behind a proxy that
    /// ends TLS).
    public var tls: TLSFiles?

    /// The PEM files with which the server speaks HTTPS (`"tls": {"certificateChain": …, "privateKey": …}`).
    public struct TLSFiles: Sendable, Hashable {
        /// The server's certificate first, then the intermediates that lead to a trusted authority (PEM).
        public var certificateChain: String
        /// The certificate's private key (PEM, not encrypted).
        public var privateKey: String

        /// The two files.
        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    /// `https` when the server speaks it (``tls``), else `http`.
    public var scheme: String { tls == nil ? "http" : "https" }

    /// Whether `host` is a loopback address or name, which only this machine reaches.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// An empty configuration (no keys: every token is refused).
    public init() {}

    /// Reads a configuration file.
    /// - Throws: ``ServerConfigurationError`` naming the file and the field.
    public static func load(path: String) throws(ServerConfigurationError) -> ServerConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServerConfigurationError(path: path, reason: "cannot read the file")
        }
        return try parse(data, path: path)
    }

    /// Parses a configuration from JSON.
    /// - Throws: ``ServerConfigurationError`` naming the field.
    public static func parse(
        _ data: Data, path: String = "configuration"
    ) throws(ServerConfigurationError)
        -> ServerConfiguration
    {
        let fail = { (reason: String) in ServerConfigurationError(path: path, reason: reason) }
        let object: [String: Any]
        do {
            guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw fail("the configuration must be a JSON object")
            }
            object = root
        } catch let error as ServerConfigurationError {
            throw error
        } catch {
            throw fail("malformed JSON")
        }
        func refuseUnknown(
            _ section: [String: Any], _ known: [String], in path: String
        ) throws(ServerConfigurationError) {
            try Self.refuseUnknown(section, known, in: path, fail)
        }
        try refuseUnknown(
            object,
            [
                "listen", "issuer", "audience", "platformAdminGroups", "keys", "leewaySeconds",
                "checkpointIntervalSeconds", "limits", "odata", "tls",
            ], in: "")
        var configuration = ServerConfiguration()
        if let listen = object["listen"] {
            guard let text = listen as? String, let (host, port) = Self.address(text) else {
                throw fail("`listen` must be HOST:PORT, e.g. 127.0.0.1:8080")
            }
            configuration.host = host
            configuration.port = port
        }
        configuration.issuers = try strings(object, "issuer", fail)
        configuration.audiences = try strings(object, "audience", fail)
        configuration.platformAdminGroups = Set(
            try strings(object, "platformAdminGroups", fail).map { $0.lowercased() })
        guard let keys = object["keys"] as? [[String: Any]] else {
            throw fail("`keys` must be an array of {kid, alg, secret | publicKeyPEM}")
        }
        for (index, key) in keys.enumerated() {
            let field = "keys[\(index)]"
            try refuseUnknown(key, ["kid", "alg", "secret", "publicKeyPEM", "privateKeyPEM"], in: field + ".")
            guard let id = key["kid"] as? String, !id.isEmpty else { throw fail("\(field).kid must be a string") }
            guard let name = key["alg"] as? String, let algorithm = Algorithm(rawValue: name) else {
                throw fail("\(field).alg must be HS256 or RS256")
            }
            let entry = Key(
                id: id, algorithm: algorithm, secret: key["secret"] as? String,
                publicKeyPEM: key["publicKeyPEM"] as? String, privateKeyPEM: key["privateKeyPEM"] as? String)
            switch algorithm {
            case .hs256:
                guard let secret = entry.secret, secret.utf8.count >= 32 else {
                    throw fail("\(field).secret must be a string of at least 32 bytes for HS256")
                }
            case .rs256:
                guard entry.publicKeyPEM != nil else { throw fail("\(field).publicKeyPEM is required for RS256") }
            }
            configuration.keys.append(entry)
        }
        if configuration.issuers.isEmpty { throw fail("`issuer` is required (a string or an array of strings)") }
        if configuration.audiences.isEmpty { throw fail("`audience` is required (a string or an array of strings)") }
        if let leeway = object["leewaySeconds"] {
            guard let value = leeway as? Double, value >= 0, value <= 600 else {
                throw fail("`leewaySeconds` must be a number from 0 to 600")
            }
            configuration.leewaySeconds = value
        }
        if let interval = object["checkpointIntervalSeconds"] {
            guard let value = interval as? Double, value >= 1 else {
                throw fail("`checkpointIntervalSeconds` must be a number ≥ 1")
            }
            configuration.checkpointIntervalSeconds = value
        }
        if let limits = object["limits"] {
            guard let limits = limits as? [String: Any] else { throw fail("`limits` must be an object") }
            try refuseUnknown(
                limits,
                [
                    "maximumBodyBytes", "maximumLineBytes", "maximumBatchLines", "maximumEventsPerPage",
                    "maximumIntervalWindowDays", "maximumIntervalRows", "maximumFeedUserStateRows",
                    "idleTimeoutSeconds",
                    "requestTimeoutSeconds",
                ], in: "limits.")
            func integer(_ name: String, _ keyPath: WritableKeyPath<Limits, Int>) throws(ServerConfigurationError) {
                guard let value = limits[name] else { return }
                guard let number = value as? Int, number > 0 else {
                    throw fail("`limits.\(name)` must be a positive integer")
                }
                configuration.limits[keyPath: keyPath] = number
            }
            try integer("maximumBodyBytes", \.maximumBodyBytes)
            try integer("maximumLineBytes", \.maximumLineBytes)
            try integer("maximumBatchLines", \.maximumBatchLines)
            try integer("maximumEventsPerPage", \.maximumEventsPerPage)
            try integer("maximumIntervalWindowDays", \.maximumIntervalWindowDays)
            try integer("maximumIntervalRows", \.maximumIntervalRows)
            try integer("maximumFeedUserStateRows", \.maximumFeedUserStateRows)
            if let value = limits["idleTimeoutSeconds"] {
                guard let seconds = value as? Double, seconds > 0 else {
                    throw fail("`limits.idleTimeoutSeconds` must be a positive number")
                }
                configuration.limits.idleTimeoutSeconds = seconds
            }
            if let value = limits["requestTimeoutSeconds"] {
                guard let seconds = value as? Double, seconds > 0 else {
                    throw fail("`limits.requestTimeoutSeconds` must be a positive number")
                }
                configuration.limits.requestTimeoutSeconds = seconds
            }
        }
        configuration.odata = try ReportingSettings.parse(object["odata"], fail)
        if let tls = object["tls"] {
            if let section = tls as? [String: Any] {
                try refuseUnknown(section, ["certificateChain", "privateKey"], in: "tls.")
            }
            guard let tls = tls as? [String: Any], let chain = tls["certificateChain"] as? String, !chain.isEmpty,
                let key = tls["privateKey"] as? String, !key.isEmpty
            else {
                throw fail("`tls` must be {\"certificateChain\": PEM file, \"privateKey\": PEM file}")
            }
            configuration.tls = TLSFiles(certificateChain: chain, privateKey: key)
        }
        return configuration
    }

    /// Refuses a key of `section` (at `path`, e.g. `limits.`; empty for the file) that is not in `known`: a misspelt
    /// setting would otherwise be taken as absent (no platform administrators, a default limit).
    static func refuseUnknown(
        _ section: [String: Any], _ known: [String], in path: String, _ fail: (String) -> ServerConfigurationError
    ) throws(ServerConfigurationError) {
        guard let unknown = section.keys.sorted().first(where: { !known.contains($0) }) else { return }
        throw fail(
            "`\(path)\(unknown)` is not a setting; \(path.isEmpty ? "the file" : "`\(path.dropLast())`") takes "
                + known.joined(separator: ", "))
    }

    /// Splits `HOST:PORT`.
    public static func address(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        let host = String(text[..<colon])
        return host.isEmpty ? nil : (host, port)
    }

    private static func strings(
        _ object: [String: Any], _ name: String, _ fail: (String) -> ServerConfigurationError
    ) throws(ServerConfigurationError) -> [String] {
        switch object[name] {
        case nil: return []
        case let single as String: return [single]
        case let many as [String]: return many
        default: throw fail("`\(name)` must be a string or an array of strings")
        }
    }
}

/// A configuration file that cannot be used: which file and what is wrong (never a secret's value).
public struct ServerConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file.
    public let path: String
    /// What is wrong, naming the field.
    public let reason: String

    /// e.g. "serve.json: keys[0].alg must be HS256 or RS256".
    public var description: String { "\(path): \(reason)" }
}
