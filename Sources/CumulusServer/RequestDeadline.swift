import NIOCore
import NIOHTTPTypes

/// Cuts off clients that send a request slowly (slowloris): once the first byte of a request has arrived,
/// the whole request — head and body — must arrive within `limits.requestTimeoutSeconds`, or the
/// connection is closed. The idle timeout alone does not catch a client that trickles a byte every few
/// seconds, since every byte counts as activity.
///
/// Two handlers share one state: ``FirstByteHandler`` sits at the front of the pipeline (before the HTTP
/// decoder, which hands nothing on until a request head is complete) and starts the clock on the first byte
/// of a request; ``RequestDeadlineHandler`` sits after the decoder, stops the clock when the request's end
/// arrives, and re-arms it when the response's end has been written (the next bytes are a new request).
/// Both run on the connection's event loop, so the state needs no lock.
final class RequestDeadline {
    enum Phase {
        /// Between requests: the next byte starts the clock.
        case waiting
        /// Bytes of a request have arrived, its end has not.
        case receiving
        /// The request is complete; the server is answering it.
        case answering
    }

    let timeout: TimeAmount
    var phase = Phase.waiting
    var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func bytesArrived(context: ChannelHandlerContext) {
        guard phase == .waiting else { return }
        phase = .receiving
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) {
            // Still receiving after the timeout: the client is too slow (or holding the connection open).
            channel.close(promise: nil)
        }
    }

    func requestEnded() {
        phase = .answering
        timer?.cancel()
        timer = nil
    }

    func responseEnded() {
        if phase == .answering { phase = .waiting }
    }

    func cancel() {
        timer?.cancel()
        timer = nil
    }
}

/// The front of the pipeline: starts the request clock on the first raw byte of a request.
final class FirstByteHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    let deadline: RequestDeadline

    init(deadline: RequestDeadline) {
        self.deadline = deadline
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deadline.bytesArrived(context: context)
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline.cancel()
        context.fireChannelInactive()
    }
}

/// After the HTTP decoder: stops the request clock at the request's end and re-arms it after the response;
/// installs ``FirstByteHandler`` at the front of the pipeline when it is added.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let deadline: RequestDeadline

    init(timeout: TimeAmount) {
        self.deadline = RequestDeadline(timeout: timeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Pipeline changes from handlerAdded run on the event loop, synchronously.
        try? context.pipeline.syncOperations.addHandler(FirstByteHandler(deadline: deadline), position: .first)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { deadline.requestEnded() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { deadline.responseEnded() }
        context.write(data, promise: promise)
    }
}
