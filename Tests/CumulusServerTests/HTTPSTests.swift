import CumulusServer
import CumulusTesting
import Foundation
import Logging
import Testing

/// `cumulus serve` speaks HTTPS when the configuration names a certificate and key (`tls`): a real TLS client
/// (Python's `ssl`, checking the certificate) gets the answers; plain HTTP on that port gets none; unusable files
/// stop the start with a sentence naming the file.
@Suite("HTTPS")
struct HTTPSTests {
    /// The test's certificates, removed with it.
    let scratch = TemporaryDirectory(prefix: "cumulus-tls")

    /// A self-signed certificate for 127.0.0.1 and its key, made with `openssl`, in the test's directory.
    func certificate(_ label: String = "server") async throws -> (chain: String, key: String) {
        let directory = scratch.path
        let chain = directory + "/\(label).crt"
        let key = directory + "/\(label).key"
        let made = try await ChildProcess.runExecutable(
            "/usr/bin/env",
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", key, "-out", chain,
            ])
        try #require(made.status == 0, "openssl: \(made.error)")
        return (chain, key)
    }

    static func tlsSetting(chain: String, key: String) -> String {
        #", "tls": {"certificateChain": "\#(chain)", "privateKey": "\#(key)"}"#
    }

    /// GETs `path` over HTTPS with Python's `urllib`, trusting only `authority`; prints the status and body.
    static func get(
        port: Int, path: String, authority: String, token: String? = nil
    ) async throws -> (status: Int32, output: String, error: String) {
        let script = """
            import ssl, sys, urllib.request, urllib.error
            port, path, authority, token = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
            context = ssl.create_default_context(cafile=authority)
            request = urllib.request.Request(f"https://127.0.0.1:{port}{path}")
            if token:
                request.add_header("Authorization", "Bearer " + token)
            try:
                with urllib.request.urlopen(request, context=context, timeout=30) as answer:
                    print(answer.status, answer.read().decode())
            except urllib.error.HTTPError as error:
                print(error.code, error.read().decode())
            """
        return try await ChildProcess.runExecutable(
            "/usr/bin/env", ["python3", "-c", script, String(port), path, authority, token ?? ""])
    }

    @Test func theServerSpeaksHTTPSWithTheConfiguredCertificate() async throws {
        let (chain, key) = try await certificate()
        let server = try await TestServer(configurationExtra: Self.tlsSetting(chain: chain, key: key))
        let port = server.client.port

        let health = try await Self.get(port: port, path: "/health", authority: chain)
        #expect(health.status == 0 && health.output.hasPrefix("200"), "\(health)")
        let tenant = try await Self.get(
            port: port, path: "/v1/tenants/\(server.world.tenant)", authority: chain,
            token: try await server.tenantAdmin)
        #expect(tenant.output.hasPrefix("200") && tenant.output.contains("Contoso"), "\(tenant)")
        // The OData feed's links use the scheme the server speaks (Power BI follows them).
        let feed = try await Self.get(
            port: port, path: "/odata/", authority: chain, token: try await server.tenantAdmin)
        #expect(feed.output.contains("\"https://127.0.0.1:\(port)/odata/$metadata\""), "\(feed)")
        let unauthenticated = try await Self.get(port: port, path: "/v1/tenants", authority: chain)
        #expect(unauthenticated.output.hasPrefix("401"), "\(unauthenticated)")

        // A client that does not trust the certificate refuses the server.
        let (other, _) = try await certificate("other")
        let distrusted = try await Self.get(port: port, path: "/health", authority: other)
        #expect(distrusted.status != 0 && distrusted.error.contains("CERTIFICATE_VERIFY_FAILED"), "\(distrusted)")

        // Plain HTTP on the HTTPS port is not answered in HTTP.
        let plain = await LoopbackClient.exchange(
            port: port, Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8), readTimeout: 10)
        #expect(!String(decoding: plain, as: UTF8.self).hasPrefix("HTTP/"), "\(String(decoding: plain, as: UTF8.self))")
        await server.stop()

        // A client that connects and never starts the handshake is closed by the idle clock (2 s here).
        let short = try await TestServer(
            seed: false, configurationExtra: Self.tlsSetting(chain: chain, key: key), timeouts: .short)
        let start = ContinuousClock.now
        let silent = await LoopbackClient.exchange(port: short.client.port, [], readTimeout: 20)
        #expect(silent.isEmpty)
        #expect(ContinuousClock.now - start < .seconds(15), "a silent TLS connection stayed open")
        await short.stop()
    }

    @Test func unusableCertificateFilesStopTheStartNamingTheFile() async throws {
        let (chain, key) = try await certificate()
        let (_, otherKey) = try await certificate("other")
        let world = World()
        var logger = Logger(label: "https-test")
        logger.logLevel = .critical
        let cases: [(chain: String, key: String, expected: String)] = [
            ("/nonexistent/server.crt", key, "tls.certificateChain '/nonexistent/server.crt': cannot read"),
            (chain, "/nonexistent/server.key", "tls.privateKey '/nonexistent/server.key': cannot read"),
            (key, key, "tls.certificateChain '\(key)'"),
            (chain, otherKey, "tls.privateKey '\(otherKey)': does not go with the certificate of \(chain)"),
        ]
        for (chain, key, expected) in cases {
            let configuration = TestServer.configuration(
                world: world, extra: Self.tlsSetting(chain: chain, key: key))
            #expect(configuration.tls == .init(certificateChain: chain, privateKey: key))
            let directory = TemporaryEventLog.makeDirectory(prefix: "cumulus-tls-refused")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            do {
                let server = try await CumulusServer.open(
                    directory: directory, configuration: configuration, logger: logger)
                await server.shutDown()
                Issue.record("served with \(chain) and \(key)")
            } catch {
                #expect(error.description.contains(expected), "\(error)")
                #expect(!error.description.contains("\n"), "\(error)")
            }
            // Nothing was created or locked: the directory is still empty.
            #expect((try? FileManager.default.contentsOfDirectory(atPath: directory))?.isEmpty ?? true)
        }
        #expect(throws: ServerConfigurationError.self) {
            try ServerConfiguration.parse(
                Data(#"{"issuer": "i", "audience": "a", "keys": [], "tls": {"certificateChain": 3}}"#.utf8))
        }
    }
}
