public import CumulusLog
import Foundation

/// Where a log lives on PostgreSQL: the server, the credentials, the database and the schema.
///
/// Written as a URL, `postgres://USER:PASSWORD@HOST:PORT/DATABASE?schema=SCHEMA`:
/// - `schema` names the PostgreSQL schema holding the log's tables (`cumulus` by default), so that one
///   database can hold several logs;
/// - `host=/some/directory` connects through the Unix socket in that directory instead of TCP;
/// - `sslmode=disable` turns TLS off; by default TLS is used when the server offers it (`prefer`).
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
    /// Whether to use TLS when the server offers it.
    public var prefersTLS: Bool

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
        var prefersTLS = true
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "schema": schema = value
            case "host": socketDirectory = value
            case "sslmode":
                switch value {
                case "disable": prefersTLS = false
                case "prefer", "allow": prefersTLS = true
                default:
                    throw .invalidField(field: field, reason: "sslmode '\(value)' is not supported (disable or prefer)")
                }
            default:
                throw .invalidField(
                    field: field, reason: "unknown parameter '\(item.name)' (known: schema, host, sslmode)")
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
        self.prefersTLS = prefersTLS
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
        if !prefersTLS { items.append(URLQueryItem(name: "sslmode", value: "disable")) }
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
