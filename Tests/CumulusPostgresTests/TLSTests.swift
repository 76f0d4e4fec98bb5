import CumulusLog
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Testing

@testable import CumulusPostgres

/// `sslmode` and `sslrootcert` as libpq means them, against the test server, which offers TLS with a certificate
/// signed by a throw-away authority (`$CUMULUS_PG_CA`, Tools/scripts/postgres.sh).
@Suite("PostgreSQL connection settings: TLS, application name", .enabled(if: TestServer.enabled, TestServer.skipReason))
struct TLSTests {
    /// The authority that signed the test server's certificate; required on CI.
    static func authority() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["CUMULUS_PG_CA"] else { throw NoAuthority() }
        return path
    }

    struct NoAuthority: Error, CustomStringConvertible {
        var description: String { "CUMULUS_PG_CA is not set: start the server with Tools/scripts/postgres.sh" }
    }

    /// A fresh location on the test server with `sslmode` (and `sslrootcert`, and the host) set.
    static func location(
        _ mode: PostgresLocation.TLSMode, rootCertificates: String? = nil, host: String? = nil
    ) throws -> PostgresLocation {
        var location = try TestServer.freshLocation("tls")
        location.tlsMode = mode
        location.rootCertificates = rootCertificates
        if let host { location.host = host }
        return location
    }

    /// Whether the server sees TLS on the sessions of a store opened at `location` — its pool's (one or more, after
    /// an append) and a single connection's (a lease holds one) — as the set of the answers; the sessions are found
    /// by an `application_name` of their own.
    static func encrypted(_ location: PostgresLocation) async throws -> Set<Bool> {
        var location = location
        location.applicationName = "cumulus-tls-\(UInt32.random(in: 0...UInt32.max))"
        let store = try await PostgresEventStore.open(location, options: .init(create: true))
        defer { store.close() }
        _ = try await store.append(
            [ProposedEvent(type: "Tested", actor: "test", payload: [])], to: try StreamName("tls-1"),
            expecting: .noStream)
        let lease = try await store.tryLease("tls-test")
        #expect(lease != nil)
        let flags = try TestServer.psql(
            """
            SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
            WHERE a.application_name = '\(location.applicationName)' ORDER BY a.pid
            """)
        await lease?.release()
        let sessions = flags.split(separator: "\n").map { $0 == "t" }
        #expect(sessions.count >= 2, "the store's sessions: \(sessions)")
        return Set(sessions)
    }

    @Test func everyModeConnectsAsLibpqWould() async throws {
        let authority = try Self.authority()
        // The pool's sessions and the lease's, all plain or all encrypted.
        let plain: Set<Bool> = [false]
        let encrypted: Set<Bool> = [true]
        #expect(try await Self.encrypted(Self.location(.disable)) == plain)
        // `prefer` (the default), `allow` and `require` encrypt without checking the certificate, which no
        // authority of this machine signed.
        #expect(try await Self.encrypted(Self.location(.prefer)) == encrypted)
        #expect(try await Self.encrypted(Self.location(.allow)) == encrypted)
        #expect(try await Self.encrypted(Self.location(.require)) == encrypted)
        #expect(try await Self.encrypted(Self.location(.require, rootCertificates: authority)) == encrypted)
        #expect(try await Self.encrypted(Self.location(.verifyCA, rootCertificates: authority)) == encrypted)
        #expect(
            try await Self.encrypted(Self.location(.verifyFull, rootCertificates: authority, host: "localhost"))
                == encrypted)

        // A store on the default URL (no sslmode) against a server with a certificate nobody here vouches for:
        // it opens, appends and reads back.
        let url = try TestServer.requiredURL()
        #expect(!url.contains("sslmode"))
        var location = try PostgresLocation(url: url)
        location.schema = TestServer.freshSchema("tlsdefault")
        #expect(location.tlsMode == .prefer)
        let store = try await PostgresEventStore.open(location, options: .init(create: true))
        let event = ProposedEvent(type: "Tested", actor: "test", payload: Array("{}".utf8))
        let appended = try await store.append([event], to: try StreamName("tls-1"), expecting: .noStream)
        #expect(try await store.readAll(after: .start, maximumCount: 10).map(\.id) == [event.id])
        #expect(appended.lastPosition == GlobalPosition(1))
        store.close()

        // A verified store, end to end.
        let verified = try await PostgresEventStore.open(
            Self.location(.verifyFull, rootCertificates: authority, host: "localhost"), options: .init(create: true))
        let second = try await verified.append([event], to: try StreamName("tls-1"), expecting: .noStream)
        #expect(second.lastPosition == GlobalPosition(1))
        verified.close()
    }

    /// Opens `location`, expecting a refusal; returns its sentence.
    static func refusal(_ location: PostgresLocation) async -> String {
        do {
            let store = try await PostgresEventStore.open(location, options: .init(create: true))
            store.close()
            Issue.record("\(location) opened")
            return ""
        } catch {
            return error.description
        }
    }

    func schemaExists(_ schema: String) throws -> Bool {
        try TestServer.psql("SELECT count(*) FROM pg_namespace WHERE nspname = '\(schema)'") == "1"
    }

    @Test func aCertificateThatCannotBeCheckedIsRefusedInOneSentence() async throws {
        let authority = try Self.authority()
        // No authority named, and the system trusts none that signed the server's certificate.
        let unchecked = try Self.location(.verifyCA)
        let text = await Self.refusal(unchecked)
        #expect(
            text.contains("certificate was refused (sslmode=verify-ca)") && text.contains("sslrootcert=FILE"), "\(text)"
        )
        #expect(!text.contains("\n") && !text.contains(unchecked.password ?? "?"), "\(text)")
        #expect(try !schemaExists(unchecked.schema))

        // The certificate names `localhost` and 127.0.0.1; an address cannot be checked as a name.
        let address = try Self.location(.verifyFull, rootCertificates: authority)
        let byAddress = await Self.refusal(address)
        #expect(byAddress.contains("sslmode=verify-full needs the server's host name"), "\(byAddress)")
        #expect(try !schemaExists(address.schema))

        // sslrootcert that is missing, or not a certificate.
        let missing = await Self.refusal(try Self.location(.verifyCA, rootCertificates: "/nonexistent/ca.crt"))
        #expect(missing.contains("sslrootcert '/nonexistent/ca.crt' is not a readable file"), "\(missing)")
        let notPEM = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-ca-\(UUID()).pem").path
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: notPEM))
        defer { try? FileManager.default.removeItem(atPath: notPEM) }
        let garbage = await Self.refusal(try Self.location(.require, rootCertificates: notPEM))
        #expect(garbage.contains("holds no PEM certificate"), "\(garbage)")

        // An unknown sslmode, in the URL.
        #expect(throws: EventStoreError.self) {
            try PostgresLocation(url: "postgres://u@h/d?sslmode=verify-everything")
        }
        do {
            _ = try PostgresLocation(url: "postgres://u@h/d?sslmode=verify-everything")
        } catch {
            #expect(error.description.contains("not one of disable, allow, prefer, require, verify-ca, verify-full"))
        }
        // A control character in the value is not echoed into the sentence.
        do {
            _ = try PostgresLocation(url: "postgres://u@h/d?sslmode=req%0Auire")
            Issue.record("a line break in sslmode was accepted")
        } catch {
            #expect(error.description.contains("sslmode 'req\\u{a}uire'") && !error.description.contains("\n"))
        }
    }

    @Test func requireAgainstAServerWithoutTLSIsRefusedInOneSentence() async throws {
        // A listener that answers PostgreSQL's SSLRequest with 'N' (no TLS here), as a server with ssl off does.
        let group = MultiThreadedEventLoopGroup.singleton
        let listener = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RefuseTLS())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { listener.close(promise: nil) }
        var location = try Self.location(.require)
        location.port = listener.localAddress?.port ?? 0
        let text = await Self.refusal(location)
        #expect(
            text.contains("the server does not accept TLS connections, and sslmode=require requires TLS"), "\(text)")
        #expect(!text.contains("\n"), "\(text)")
    }

    @Test func sessionsCarryTheApplicationName() async throws {
        // The default, on a single connection made as the store makes them.
        let plain = try Self.location(.prefer)
        #expect(plain.applicationName == "cumulus" && !plain.url.contains("application_name"))
        let logger = Logger(label: "tls-test")
        let connection = try await PostgresConnection.connect(
            configuration: PostgresEventStore.connectionConfiguration(plain, try await PostgresTLS.make(plain)), id: 8,
            logger: logger)
        let name = try await connection.query(
            "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()", logger: logger
        ).collect().first?.decode(String.self)
        try await connection.close()
        #expect(name == "cumulus")

        // One given in the URL, on the store's pool: its sessions show it while the store is open.
        let unique = "cumulus-test-\(UInt32.random(in: 0...UInt32.max))"
        var named = try PostgresLocation(url: try TestServer.requiredURL() + "?application_name=\(unique)")
        named.schema = TestServer.freshSchema("appname")
        #expect(try PostgresLocation(url: named.url).applicationName == unique)
        let store = try await PostgresEventStore.open(named, options: .init(create: true))
        _ = try await store.append(
            [ProposedEvent(type: "Tested", actor: "test", payload: [])], to: try StreamName("app-1"),
            expecting: .noStream)
        let sessions = try TestServer.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(unique)'")
        #expect((Int(sessions) ?? 0) >= 1, "\(sessions) sessions named \(unique)")
        store.close()

        for bad in ["", String(repeating: "x", count: 64), "tab%09name"] {
            #expect(throws: EventStoreError.self, "application_name '\(bad)'") {
                try PostgresLocation(url: "postgres://u@h/d?application_name=\(bad)")
            }
        }
    }

    /// Answers the 8-byte SSLRequest with 'N'.
    final class RefuseTLS: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var answer = context.channel.allocator.buffer(capacity: 1)
            answer.writeInteger(UInt8(ascii: "N"))
            context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
        }
    }
}
