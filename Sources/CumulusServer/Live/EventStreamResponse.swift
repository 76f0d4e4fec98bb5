import CumulusLog
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// One Server-Sent Events frame for an event of the log: `id:` is the event's position (written by
/// `EventStreamResponse`), then `event:` when there is one and the `data:` line.
struct EventStreamFrame: Sendable {
    /// The `event:` field (`/v1/events/live` sends the event's type); nil for none.
    var event: String?
    /// The `data:` line: one line of JSON, without line breaks.
    var data: String
}

/// The Server-Sent Events plumbing shared by `GET /v1/events/live` and `GET /v1/states/live`: where the stream
/// starts, waiting for new events, reading them in batches, writing the frames and stopping.
///
/// The stream starts after `Last-Event-ID` (a reconnecting `EventSource`), else after `?after=`, else at the end
/// of the log; a comment line names where. A `Last-Event-ID` or `after` that is not a position is refused (400
/// problem+json naming it) rather than ignored, which would silently skip the events the client asked for. The
/// stream ends when the server shuts down gracefully, the client goes away (the response body terminates) or the
/// log cannot be read any more. The route decides what a reader sees: for each batch read from the log it returns
/// the renderer of that batch's events, and a renderer's nil skips an event (one the caller may not read, or one
/// the stream does not carry).
enum EventStreamResponse {
    /// Called once per batch read from the log (in log order); may wait (e.g. for the read side to catch up)
    /// and returns the function that renders each event of the batch, nil to skip it.
    typealias Renderer = @Sendable (_ batch: [RecordedEvent]) async throws -> (RecordedEvent) -> EventStreamFrame?

    /// How many events one read of the log takes at the most.
    static let batchSize = 1024

    /// The `text/event-stream` response for `request`: a comment `: <name> after <position>` first, then a frame
    /// per event `render` keeps. Resumes as the type says.
    /// - Throws: `Problem` 400 for a `Last-Event-ID` or `after` that is not a position, 503 when the end of the
    ///   log cannot be read.
    static func make(
        _ request: Request, store: any EventStore, name: String, render: @escaping Renderer
    ) async throws(Problem) -> Response {
        let origin = try await start(of: request, store: store)
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        let producer = Task {
            await cancelWhenGracefulShutdown {
                var position = origin
                continuation.yield(ByteBuffer(string: ": \(name) after \(origin.rawValue)\n\n"))
                while !Task.isCancelled {
                    do {
                        try await store.waitForEvents(after: position)
                        let batch = try await store.readAll(after: position, maximumCount: batchSize)
                        guard let last = batch.last else { continue }
                        position = last.position
                        let renderer = try await render(batch)
                        var chunk = ""
                        for event in batch {
                            guard let frame = renderer(event) else { continue }
                            chunk += Self.text(of: frame, at: event.position)
                        }
                        if !chunk.isEmpty { continuation.yield(ByteBuffer(string: chunk)) }
                    } catch {
                        break
                    }
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in producer.cancel() }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: stream))
    }

    /// The position the stream starts after: `Last-Event-ID`, else `?after=`, else the end of the log.
    /// - Throws: `Problem` 400 when `Last-Event-ID` or `after` is there but not a position (a whole number from 0;
    ///   both are checked when both are sent) or a position past the end of the log, 503 when the end of the log
    ///   cannot be read.
    static func start(of request: Request, store: any EventStore) async throws(Problem) -> GlobalPosition {
        var resume: (position: UInt64, field: String)?
        if let header = request.headers.first(where: { $0.name.canonicalName == "last-event-id" }) {
            guard let position = UInt64(header.value) else {
                throw Problem(
                    .badRequest, kind: "bad-header", title: "Bad header",
                    detail: "Last-Event-ID must be the id of an event of this stream: an integer from 0 to "
                        + "\(UInt64.max)", field: "Last-Event-ID")
            }
            resume = (position, "Last-Event-ID")
        }
        if let after = request.uri.queryParameters.get("after") {
            guard let position = UInt64(after) else {
                throw Problem.badParameter("after", "after must be an integer from 0 to \(UInt64.max)")
            }
            resume = resume ?? (position, "after")
        }
        let head: GlobalPosition
        do { head = try await store.lastPosition() } catch { throw CumulusServer.storageProblem() }
        guard let resume else { return head }
        try CumulusServer.refusePastTheEnd(resume.position, head: head, field: resume.field)
        return GlobalPosition(resume.position)
    }

    /// The frame's text: `id:`, `event:` when there is one, `data:` and the blank line that ends it.
    static func text(of frame: EventStreamFrame, at position: GlobalPosition) -> String {
        var text = "id: \(position.rawValue)\n"
        if let event = frame.event { text += "event: \(event)\n" }
        return text + "data: \(frame.data)\n\n"
    }
}
