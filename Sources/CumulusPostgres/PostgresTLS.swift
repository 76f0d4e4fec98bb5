import CumulusLog
import Foundation
import NIOPosix
import NIOSSL
import PostgresNIO

/// The TLS settings of a location's connections, as libpq's `sslmode` and `sslrootcert` mean them.
///
/// Why `prefer` does not check the certificate: that is what it means to libpq and to the operators who write
/// these URLs, and a stock server (Debian's clusters, for one) offers TLS with a self-signed certificate: a client
/// that checked it by default could not connect to them at all. Who wants the server checked says so with
/// `verify-full` (or `verify-ca`), and names the authority with `sslrootcert` unless the system trusts it.
///
/// Made once per store, off the cooperative threads (``make(_:)``): reading `sslrootcert` and building the TLS
/// context (which loads the system's trust roots when they are used) are blocking file reads.
struct PostgresTLS: Sendable {
    /// Whether to use TLS, and whether the server must offer it.
    enum Use {
        case none
        case ifOffered
        case required
    }

    let use: Use
    /// The client's TLS configuration; unused when ``use`` is `.none`.
    let configuration: TLSConfiguration
    /// The context of single connections built from ``configuration``; nil when ``use`` is `.none`.
    let context: NIOSSLContext?

    /// The settings for `location`, made on NIO's blocking thread pool.
    /// - Throws: as ``init(_:)``.
    static func make(_ location: PostgresLocation) async throws(EventStoreError) -> PostgresTLS {
        let result: Result<PostgresTLS, EventStoreError>
        do {
            result = try await NIOThreadPool.singleton.runIfActive {
                do throws(EventStoreError) {
                    return .success(try PostgresTLS(location))
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            throw .storage(operation: "TLS settings for \(location)", code: 0, message: "\(error)")
        }
        return try result.get()
    }

    /// The settings for `location`.
    /// - Throws: `EventStoreError.invalidField(field:reason:)` when `sslrootcert` cannot be read or holds no
    ///   certificate, or `verify-full` is asked of a host given as an IP address, or the TLS context cannot be
    ///   built.
    init(_ location: PostgresLocation) throws(EventStoreError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        let field = "PostgreSQL URL"
        var use = Use.required
        switch location.tlsMode {
        case .disable:
            use = .none
        case .allow, .prefer:
            use = .ifOffered
            configuration.certificateVerification = .none
        case .require:
            configuration.certificateVerification = location.rootCertificates == nil ? .none : .noHostnameVerification
        case .verifyCA:
            configuration.certificateVerification = .noHostnameVerification
        case .verifyFull:
            configuration.certificateVerification = .fullVerification
            // postgres-nio sends no server name for an address (SNI forbids it), and without a name the certificate
            // would be checked like `verify-ca`: refused rather than checked less than asked.
            if location.socketDirectory == nil && Self.isAddress(location.host) {
                throw .invalidField(
                    field: field,
                    reason: "sslmode=verify-full needs the server's host name, not the address '\(location.host)' "
                        + "(or use sslmode=verify-ca)")
            }
        }
        // As with libpq, TLS is not used through a Unix socket.
        if location.socketDirectory != nil { use = .none }
        if use != .none, let path = location.rootCertificates, path != "system" {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw .invalidField(field: field, reason: "sslrootcert '\(path)' is not a readable file")
            }
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                throw .invalidField(field: field, reason: "sslrootcert '\(path)' holds no PEM certificate (\(error))")
            }
            guard !certificates.isEmpty else {
                throw .invalidField(field: field, reason: "sslrootcert '\(path)' holds no PEM certificate")
            }
            configuration.trustRoots = .certificates(certificates)
        }
        self.use = use
        self.configuration = configuration
        if use == .none {
            context = nil
        } else {
            do {
                context = try NIOSSLContext(configuration: configuration)
            } catch {
                throw .invalidField(field: field, reason: "its TLS settings cannot be used (\(error))")
            }
        }
    }

    /// For a connection pool.
    var client: PostgresClient.Configuration.TLS {
        switch use {
        case .none: .disable
        case .ifOffered: .prefer(configuration)
        case .required: .require(configuration)
        }
    }

    /// For a single connection.
    var connection: PostgresConnection.Configuration.TLS {
        guard let context else { return .disable }
        return use == .ifOffered ? .prefer(context) : .require(context)
    }

    static func isAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1
    }
}
