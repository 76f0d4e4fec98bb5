import NIOCore
import NIOHTTPTypes

/// The two clocks of a connection, both counting only time in which the server waits for the client.
///
/// - The **idle clock** closes a connection on which nothing arrives for `limits.idleTimeoutSeconds` while
///   the server waits for bytes: between requests, and while a request is incomplete.
/// - The **request clock** cuts off a client that sends a request slowly (slowloris): a client that trickles a
///   byte every few seconds never trips the idle clock, so the time the server spends waiting for one request's
///   bytes — from its first byte to its end — is added up, and past `limits.requestTimeoutSeconds` the
///   connection is closed.
///
/// Neither clock runs while the server is not asking for bytes. A server whose tasks stall stops reading a
/// large body (the async channel's back-pressure holds back the channel's `read`); the client is not slow then,
/// and its connection is not closed: the clocks resume when the server reads again. Nor do they run while the
/// request is complete and the server answers it, so a long answer (a report, the live event stream) is not cut.
///
/// Two handlers share one state: ``RawBytesClockHandler`` sits at the front of the pipeline, where it sees the
/// raw bytes arrive and the server's `read` requests leave (the HTTP decoder hands nothing on until a request
/// head is complete); ``RequestPartsClockHandler`` sits after the decoder and tells the request's end and the
/// response's end. Both run on the connection's event loop, so the state needs no lock.
///
/// Why not Hummingbird's `idleTimeout`: its clock runs from the last request part the server took, also
/// while the server itself is not reading, so a stalled server closed connections it had not answered.
final class ConnectionClocks {
    enum Phase {
        /// Between requests: the next byte starts a request.
        case waiting
        /// Bytes of a request have arrived, its end has not.
        case receiving
        /// The request is complete; the server is answering it.
        case answering
    }

    let idleTimeout: TimeAmount
    let requestTimeout: TimeAmount
    private var phase = Phase.waiting
    /// Whether the server has asked for bytes (a `read` left the pipeline) that have not arrived yet. True at
    /// the start: a new connection's server waits for its first request.
    private var readPending = true
    private var channel: (any Channel)?
    /// The time the server has waited for the current request's bytes, up to ``waitingSince``.
    private var requestWaited = TimeAmount.zero
    /// Since when the clocks run, or nil while they are stopped.
    private var waitingSince: NIODeadline?
    private var timer: Scheduled<Void>?

    init(idleTimeout: TimeAmount, requestTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
    }

    /// The connection is open: the clocks may run.
    func activated(_ channel: any Channel) {
        guard self.channel == nil else { return }
        self.channel = channel
        run()
    }

    /// The connection closed: nothing more to time.
    func deactivated() {
        stop()
        channel = nil
    }

    /// The server asked for more bytes.
    func readRequested() {
        guard !readPending else { return }
        readPending = true
        run()
    }

    /// Bytes arrived: the wait ends (and the idle clock starts again from the next wait); the first byte after a
    /// response starts a request.
    func bytesArrived() {
        stop()
        readPending = false
        if phase == .waiting {
            phase = .receiving
            requestWaited = .zero
        }
    }

    /// The request's end has been decoded: the server answers it, and waits for nothing.
    func requestEnded() {
        stop()
        phase = .answering
    }

    /// The response's end has been written: the next bytes are a new request.
    func responseEnded() {
        guard phase == .answering else { return }
        phase = .waiting
        run()
    }

    /// Starts the clocks if the server waits for the client now and they are not running yet.
    private func run() {
        guard waitingSince == nil, let channel, readPending, phase != .answering else { return }
        let now = NIODeadline.now()
        waitingSince = now
        var left = idleTimeout
        if phase == .receiving { left = min(left, requestTimeout - requestWaited) }
        // Still waiting when a clock runs out: the client is gone, too slow, or holding the connection open.
        timer = channel.eventLoop.scheduleTask(in: max(left, .zero)) { channel.close(promise: nil) }
    }

    /// Stops the clocks, adding the wait to the request's time.
    private func stop() {
        guard let since = waitingSince else { return }
        if phase == .receiving { requestWaited = requestWaited + (NIODeadline.now() - since) }
        waitingSince = nil
        timer?.cancel()
        timer = nil
    }
}

/// The front of the pipeline: raw bytes arriving, and the server's `read` requests leaving.
final class RawBytesClockHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    let clocks: ConnectionClocks

    init(clocks: ConnectionClocks) {
        self.clocks = clocks
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { clocks.activated(context.channel) }
    }

    func channelActive(context: ChannelHandlerContext) {
        clocks.activated(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clocks.bytesArrived()
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        clocks.readRequested()
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        clocks.deactivated()
        context.fireChannelInactive()
    }
}

/// After the HTTP decoder: the request's end and the response's end; installs ``RawBytesClockHandler`` at the
/// front of the pipeline when it is added.
final class RequestPartsClockHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let clocks: ConnectionClocks

    init(idleTimeout: TimeAmount, requestTimeout: TimeAmount) {
        clocks = ConnectionClocks(idleTimeout: idleTimeout, requestTimeout: requestTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Pipeline changes from handlerAdded run on the event loop, synchronously.
        try? context.pipeline.syncOperations.addHandler(RawBytesClockHandler(clocks: clocks), position: .first)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { clocks.requestEnded() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { clocks.responseEnded() }
        context.write(data, promise: promise)
    }
}
