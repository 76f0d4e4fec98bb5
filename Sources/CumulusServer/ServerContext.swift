public import Hummingbird

/// The request context of the server's routes (and of route groups other modules add).
public struct ServerContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The largest body a handler collects; the server's handlers apply the configured limit themselves.
    public var maxUploadSize: Int { 64 << 20 }

    /// Creates the context for a request.
    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
