public import CumulusLog
import Foundation

/// Where a log lives on PostgreSQL: the server, the credentials, the database and the schema.
///
/// Written as a URL, `postgres://USER:PASSWORD@HOST:PORT/DATABASE?schema=SCHEMA`:
/// - `schema` names the PostgreSQL schema holding the log's tables (`cumulus` by default), so that one
///   database can hold several logs;
/// - `host=/some/directory` connects through the Unix socket in that directory instead of TCP;
/// - `sslmode` chooses TLS with libpq's meanings (``TLSMode``): by default (`prefer`) TLS is used when the server
///   offers it, without checking its certificate; `require`, `verify-ca` and `verify-full` refuse a server without
///   TLS, and the last two check its certificate; `disable` turns TLS off;
/// - `application_name` names the sessions in `pg_stat_activity` (default `cumulus`);
/// - `sslrootcert=FILE` names the PEM certificates of the authorities trusted to sign the server's certificate
///   (instead of the system's); with it, `require` checks the certificate as `verify-ca` does.
///
/// The password never appears in ``description`` nor in any error message.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// The host name or address (TCP), ignored when ``socketDirectory`` is set.
    public var host: String
    /// The TCP port, and the number in the socket file's name.
    public var port: Int
    /// The directory of the server's Unix socket, when connecting through it.
    public var socketDirectory: String?
    /// The role to log in as.
    public var user: String
    /// The role's password, if the server asks for one.
    public var password: String?
    /// The database.
    public var database: String
    /// The schema holding the log's tables; lower-case letters, digits and `_`, at most 48 characters.
    public var schema: String
    /// How the connection uses TLS (`sslmode`); not at all through a Unix socket, as with libpq.
    public var tlsMode: TLSMode
    /// The PEM file of the authorities trusted to sign the server's certificate (`sslrootcert`), instead of the
    /// system's; `system` names the system's explicitly.
    public var rootCertificates: String?

    /// The name the sessions give the server (`application_name`, shown in `pg_stat_activity`).
    public var applicationName = PostgresLocation.defaultApplicationName

    /// The `application_name` used when the URL names none.
    public static let defaultApplicationName = "cumulus"

    /// The `sslmode` values, with libpq's meanings.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// No TLS.
        case disable
        /// As ``prefer`` (libpq tries without TLS first; postgres-nio cannot, so TLS is used when offered).
        case allow
        /// TLS when the server offers it, plain otherwise; the certificate is not checked (the default).
        case prefer
        /// TLS or no connection; the certificate is not checked, unless ``PostgresLocation/rootCertificates`` is
        /// given (then as ``verifyCA``).
        case require
        /// TLS, and the server's certificate must be signed by a trusted authority.
        case verifyCA = "verify-ca"
        /// As ``verifyCA``, and the certificate must name the URL's host.
        case verifyFull = "verify-full"
    }

    /// The schema used when the URL names none.
    public static let defaultSchema = "cumulus"

    /// Whether `text` looks like a PostgreSQL URL rather than a directory.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a `postgres://` URL.
    /// - Throws: `EventStoreError.invalidField(field:reason:)` naming what is wrong with it.
    public init(url text: String) throws(EventStoreError) {
        let field = "PostgreSQL URL"
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw .invalidField(
                field: field,
                reason: "expected postgres://USER:PASSWORD@HOST:PORT/DATABASE?schema=NAME, got '\(Self.redacted(text))'"
            )
        }
        var socketDirectory: String?
        var schema = Self.defaultSchema
        var tlsMode = TLSMode.prefer
        var rootCertificates: String?
        var applicationName = Self.defaultApplicationName
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "schema": schema = value
            case "host": socketDirectory = value
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw .invalidField(
                        field: field,
                        reason: "sslmode '\(VisibleText.excerpt(value))' is not one of "
                            + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
                }
                tlsMode = mode
            case "application_name":
                // PostgreSQL keeps 63 bytes of printable ASCII.
                guard !value.isEmpty, value.utf8.count <= 63, value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
                else {
                    throw .invalidField(
                        field: field, reason: "application_name must be 1 to 63 printable ASCII characters")
                }
                applicationName = value
            case "sslrootcert":
                guard !value.isEmpty else { throw .invalidField(field: field, reason: "sslrootcert names no file") }
                rootCertificates = value
            default:
                throw .invalidField(
                    field: field,
                    reason:
                        "unknown parameter '\(VisibleText.excerpt(item.name))' (known: schema, host, sslmode, sslrootcert, application_name)"
                )
            }
        }
        let host = components.host ?? ""
        guard !host.isEmpty || socketDirectory != nil else {
            throw .invalidField(field: field, reason: "it names no host (postgres://USER@HOST/DATABASE)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw .invalidField(field: field, reason: "it names no user (postgres://USER@HOST/DATABASE)")
        }
        var database = components.path
        while database.hasPrefix("/") { database.removeFirst() }
        guard !database.isEmpty, !database.contains("/") else {
            throw .invalidField(field: field, reason: "it names no database (postgres://USER@HOST/DATABASE)")
        }
        try Self.checkSchema(schema)
        self.host = host.isEmpty ? "localhost" : host
        self.port = components.port ?? 5432
        self.socketDirectory = socketDirectory
        self.user = user
        self.password = components.password
        self.database = database
        self.schema = schema
        self.tlsMode = tlsMode
        self.rootCertificates = rootCertificates
        self.applicationName = applicationName
    }

    /// Checks that `schema` can name the log's schema without quoting.
    /// - Throws: `EventStoreError.invalidField(field:reason:)` when it cannot.
    public static func checkSchema(_ schema: String) throws(EventStoreError) {
        let bytes = Array(schema.utf8)
        let valid =
            !bytes.isEmpty && bytes.count <= 48 && !(bytes[0] >= 0x30 && bytes[0] <= 0x39)
            && bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
        guard valid else {
            throw .invalidField(
                field: "PostgreSQL schema '\(schema)'",
                reason: "use 1 to 48 lower-case letters, digits and '_', not starting with a digit"
            )
        }
    }

    /// The URL without the password: safe to print.
    public var description: String {
        var text = "postgres://\(user)@\(host):\(port)/\(database)?schema=\(schema)"
        if let socketDirectory { text += "&host=\(socketDirectory)" }
        if tlsMode != .prefer { text += "&sslmode=\(tlsMode.rawValue)" }
        return text
    }

    /// The URL with the password, for handing to another process.
    public var url: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = user
        components.password = password
        components.host = host
        components.port = port
        components.path = "/" + database
        var items = [URLQueryItem(name: "schema", value: schema)]
        if let socketDirectory { items.append(URLQueryItem(name: "host", value: socketDirectory)) }
        if tlsMode != .prefer { items.append(URLQueryItem(name: "sslmode", value: tlsMode.rawValue)) }
        if let rootCertificates { items.append(URLQueryItem(name: "sslrootcert", value: rootCertificates)) }
        if applicationName != Self.defaultApplicationName {
            items.append(URLQueryItem(name: "application_name", value: applicationName))
        }
        components.queryItems = items
        return components.string ?? description
    }

    /// The quoted, schema-qualified name of one of the log's tables.
    func table(_ name: String) -> String { "\"\(schema)\".\"\(name)\"" }

    /// The `LISTEN`/`NOTIFY` channel on which commits are announced.
    var channel: String { "cumulus_\(schema)" }

    /// `text` with anything between `:` and `@` after the scheme hidden.
    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://") else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}
