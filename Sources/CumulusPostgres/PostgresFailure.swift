import CumulusLog
import PostgresNIO

/// Turns what postgres-nio throws into an `EventStoreError` that says what failed and where, in one sentence.
///
/// postgres-nio hides the server's message behind a generic description (so that it is not shown to end
/// users by accident); the log's errors go to operators, so the message, the SQLSTATE and the location
/// (never the password) are spelled out here.
enum PostgresFailure {
    static func storeError(_ error: any Error, _ operation: String, at location: PostgresLocation) -> EventStoreError {
        if let error = error as? EventStoreError { return error }
        if error is CancellationError { return .cancelled }
        let place = "\(operation) on \(location)"
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                let state = info[.sqlState] ?? "?????"
                return .storage(operation: place, code: 0, message: "\(message) (SQLSTATE \(state))\(hint(state))")
            }
            switch error.code {
            case .sslUnsupported:
                return .storage(
                    operation: place, code: 0,
                    message: "the server does not accept TLS connections, and sslmode=\(location.tlsMode.rawValue) "
                        + "requires TLS; turn on ssl on the server, or use sslmode=prefer")
            case .connectionError:
                let underlying = error.underlying.map { String(describing: $0) } ?? "no reason given"
                return .storage(
                    operation: place, code: 0,
                    message: "cannot connect to the server: \(underlying)\(tlsHint(underlying, location))")
            case .serverClosedConnection, .uncleanShutdown:
                return .storage(
                    operation: place, code: 0,
                    message: "the server closed the connection; whether the last append was stored is unknown — "
                        + "retry it with the same event ids")
            case .clientClosedConnection, .poolClosed:
                return .closed
            case .queryCancelled:
                return .cancelled
            default:
                return .storage(operation: place, code: 0, message: "PostgreSQL client error \(error.code)")
            }
        }
        if let error = error as? PostgresDecodingError {
            return .integrityViolation(
                position: nil, reason: "column \(error.columnName) of \(location.schema) has an unexpected type")
        }
        if String(describing: type(of: error)).hasPrefix("ConnectionPoolError") {
            return .storage(operation: place, code: 0, message: "cannot get a connection to the server (\(error))")
        }
        return .storage(operation: place, code: 0, message: String(describing: error))
    }

    /// What to do about a TLS handshake that failed on the server's certificate.
    private static func tlsHint(_ underlying: String, _ location: PostgresLocation) -> String {
        let failed = ["CERTIFICATE_VERIFY_FAILED", "ailedToValidateHostname", "unableToValidateCertificate"]
        guard failed.contains(where: underlying.contains) else { return "" }
        var hint = "; the server's certificate was refused (sslmode=\(location.tlsMode.rawValue)): it must be signed "
        hint += "by an authority this client trusts — name the authority's certificate with sslrootcert=FILE"
        if location.tlsMode == .verifyFull { hint += " — and name the host '\(location.host)'" }
        return hint + "; or use sslmode=require to encrypt without checking the certificate"
    }

    /// What to do about the SQLSTATEs an operator meets first.
    private static func hint(_ state: String) -> String {
        switch state {
        case "28P01", "28000": return "; check the user and password in the URL"
        case "3D000": return "; create the database first, or name another in the URL"
        case "42501": return "; grant the role the privileges listed in docs/postgres.md"
        case "3F000", "42P01": return "; create the log first (`cumulus init --store …`)"
        default: return ""
        }
    }
}
