import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Testing

@testable import CumulusServer

/// The connection's idle and request clocks count only time in which the server waits for the client
/// (`ConnectionClocks`): a server that stops reading a body for a while is not the client's fault.
@Suite("connection clocks")
struct ConnectionClocksTests {
    /// A bare application on the server's HTTP/1.1 channel with a route that takes its time before it reads
    /// the body; answers with the number of body bytes it read.
    static func stallingApplication(
        limits: ServerConfiguration.Limits, stall: Duration, port: AsyncStream<Int>.Continuation
    ) -> some ApplicationProtocol {
        let router = Router()
        router.post("/slow") { request, _ -> String in
            try await Task.sleep(for: stall)
            var count = 0
            for try await chunk in request.body { count += chunk.readableBytes }
            return "read \(count) bytes"
        }
        var logger = Logger(label: "clocks")
        logger.logLevel = .warning
        return Application(
            router: router, server: .http1(configuration: CumulusServer.http1Configuration(limits)),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.yield(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    @Test func aServerThatStopsReadingABodyDoesNotTimeTheClientOut() async throws {
        var limits = ServerConfiguration.Limits()
        // Clocks of seconds, not fractions: the request clock adds up every wait for the client's bytes, and on a
        // loaded machine (a CI run's parallel tests) a starved client thread alone once added up 1.5 s of them.
        limits.idleTimeoutSeconds = 2
        limits.requestTimeoutSeconds = 3
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Self.stallingApplication(limits: limits, stall: .seconds(8), port: continuation)
        let group = ServiceGroup(configuration: .init(services: [application], logger: Logger(label: "clocks")))
        let running = Task { try await group.run() }
        var port = 0
        for await value in ports {
            port = value
            break
        }
        // 8 MiB: more than the socket buffers and the async channel's buffer hold, so the client is still sending
        // when the route starts to read, 8 s after the head (both clocks would have run out twice over).
        let size = 8 << 20
        let head = "POST /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(size)\r\nConnection: close\r\n\r\n"
        let started = ContinuousClock.now
        let answer = await LoopbackClient.exchange(
            port: port, Array(head.utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: size), readTimeout: 30)
        let text = String(decoding: answer, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200"), "after \(ContinuousClock.now - started): \(text.prefix(200))")
        #expect(text.hasSuffix("read \(size) bytes"))

        // The clocks still run while the server waits: half a request, then nothing, is closed by the idle clock.
        let idleStart = ContinuousClock.now
        let half = await LoopbackClient.exchange(port: port, Array("POST /slow HT".utf8), readTimeout: 20)
        #expect(half.isEmpty || String(decoding: half, as: UTF8.self).hasPrefix("HTTP/1.1 4"))
        #expect(ContinuousClock.now - idleStart < .seconds(10))
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }
}
