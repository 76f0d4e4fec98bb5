import HummingbirdCore
import HummingbirdTLS
import NIOPosix
import NIOSSL

/// HTTPS from the configuration's `tls` files (Hummingbird's TLS channel on swift-nio-ssl, which the
/// PostgreSQL client already brings into the build).
enum ServerTLS {
    /// The server's TLS settings, read and checked off the cooperative threads (the files are read, and a key
    /// that does not match the certificate is refused here rather than on the first connection); nil for plain
    /// HTTP.
    /// - Throws: ``ServerStartFailure/configuration(_:)`` naming the file and what is wrong with it.
    static func load(_ files: ServerConfiguration.TLSFiles?) async throws(ServerStartFailure) -> TLSConfiguration? {
        guard let files else { return nil }
        let result: Result<TLSConfiguration, ServerStartFailure>
        do {
            result = try await NIOThreadPool.singleton.runIfActive { Self.read(files) }
        } catch {
            throw .configuration("tls: \(error)")
        }
        return try result.get()
    }

    private static func read(_ files: ServerConfiguration.TLSFiles) -> Result<TLSConfiguration, ServerStartFailure> {
        func failure(_ field: String, _ path: String, _ reason: String) -> Result<TLSConfiguration, ServerStartFailure>
        {
            .failure(.configuration("tls.\(field) '\(path)': \(reason)"))
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain)
        } catch {
            return failure(
                "certificateChain", files.certificateChain, "cannot read a PEM certificate from it (\(error))")
        }
        guard !chain.isEmpty else { return failure("certificateChain", files.certificateChain, "holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        } catch {
            return failure(
                "privateKey", files.privateKey, "cannot read an unencrypted PEM private key from it (\(error))")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            return failure(
                "privateKey", files.privateKey,
                "does not go with the certificate of \(files.certificateChain) (\(error))")
        }
        return .success(configuration)
    }

    /// The server's channel: HTTP/1.1 with the connection clocks, inside TLS when `tls` is given.
    static func builder(_ limits: ServerConfiguration.Limits, tls: TLSConfiguration?) -> HTTPServerBuilder {
        let http1 = CumulusServer.http1Configuration(limits)
        guard let tls else { return .http1(configuration: http1) }
        return HTTPServerBuilder { responder in
            try TLSChannel(HTTP1Channel(responder: responder, configuration: http1), tlsConfiguration: tls)
        }
    }
}
